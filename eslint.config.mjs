import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/tmp', '**/test-output', '.nx'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            // contracts is the shared vocabulary: it may depend on nothing of ours.
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:testing'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts'] },
            // The SDK runs anywhere fetch does: the registry's types and nothing else of ours.
            { sourceTag: 'type:client', onlyDependOnLibsWithTags: ['type:contracts'] },
            // The task lifecycle (libs/tasks) is the only lib that combines persistence and queue.
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:testing'] },
            // config and observability are the ground floor every lib stands on: they import no storage, queue or domain lib.
            { sourceTag: 'layer:ground', notDependOnLibsWithTags: ['layer:persistence', 'layer:queue', 'type:domain'] },
            { sourceTag: 'layer:persistence', notDependOnLibsWithTags: ['layer:queue', 'type:domain'] },
            { sourceTag: 'layer:queue', notDependOnLibsWithTags: ['layer:persistence', 'type:domain'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:lib', 'type:contracts', 'type:testing', 'type:client'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:contracts', 'type:testing', 'type:client'] },
            { sourceTag: 'type:tools', onlyDependOnLibsWithTags: ['type:domain', 'type:lib', 'type:contracts', 'type:testing'] },
            // The apps never import each other.
            { sourceTag: 'scope:api', notDependOnLibsWithTags: ['scope:worker', 'scope:monitor'] },
            { sourceTag: 'scope:worker', notDependOnLibsWithTags: ['scope:api', 'scope:monitor'] },
            { sourceTag: 'scope:monitor', notDependOnLibsWithTags: ['scope:api', 'scope:worker'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['libs/contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*', 'typeorm', 'bullmq', 'ioredis', 'pg'], message: 'contracts must stay framework-free.' },
          ],
        },
      ],
    },
  },
  {
    // The SDK is published alone: the registry's types come along, none of our code.
    files: ['libs/client/src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: '@taskq/contracts', message: 'the SDK ships without our code: import types only.', allowTypeImports: true }] },
      ],
    },
  },
  {
    // The console is a browser bundle: the registry's types, never the DTO classes (class-validator would ship with them).
    files: ['apps/console/src/**/*.ts', 'apps/console/src/**/*.tsx'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: '@taskq/contracts', message: 'the console bundles no server code: import types only.', allowTypeImports: true }] },
      ],
    },
  },
];
