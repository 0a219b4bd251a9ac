import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * Prints the bundle's size after each build, in all and for the first page (the entry chunk,
 * its CSS and index.html; the other pages load when opened), raw and gzipped, in kB as Vite's
 * own table: the README states it.
 */
function reportBundleSize(): Plugin {
  return {
    name: 'taskq-bundle-size',
    apply: 'build',
    async writeBundle(_options, bundle) {
      const { gzipSync } = await import('node:zlib');
      const sizes = new Map<string, { raw: number; gzip: number }>();
      for (const file of Object.values(bundle)) {
        if (!/\.(js|css|html)$/.test(file.fileName)) continue;
        const bytes = Buffer.from(file.type === 'chunk' ? file.code : file.source);
        sizes.set(file.fileName, { raw: bytes.length, gzip: gzipSync(bytes).length });
      }
      const entry = Object.values(bundle).find((file) => file.type === 'chunk' && file.isEntry);
      const first = ['index.html', ...(entry?.type === 'chunk' ? [entry.fileName, ...(entry.viteMetadata?.importedCss ?? [])] : [])];
      const sum = (names: Iterable<string>): string => {
        let raw = 0;
        let gzip = 0;
        for (const name of names) {
          raw += sizes.get(name)?.raw ?? 0;
          gzip += sizes.get(name)?.gzip ?? 0;
        }
        return `${(raw / 1000).toFixed(1)} kB (${(gzip / 1000).toFixed(1)} kB gzipped)`;
      };
      console.log(`console bundle: ${sum(sizes.keys())} in all; the first page loads ${sum(first)}`);
    },
  };
}

// Served by the API at /console; talks to the API on the same origin.
export default defineConfig({
  root: here('.'),
  base: '/console/',
  plugins: [react(), reportBundleSize()],
  resolve: {
    alias: {
      '@taskq/client': here('../../libs/client/src/index.ts'),
      '@taskq/contracts': here('../../libs/contracts/src/index.ts'),
    },
  },
  build: {
    outDir: here('../../dist/apps/console'),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { '^/(auth|tasks|events|stats|dlq|schedules|keys|task-types|admin)': 'http://127.0.0.1:3000' },
  },
});
