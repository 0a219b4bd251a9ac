import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WORKSPACE_ROOT, queryDatabase, testDatabase } from '@taskq/testing';

/** The migration Job's entry (deploy/kubernetes/base/migrate-job.yaml): creates and migrates a database, then exits. */
const run = promisify(execFile);
const db = testDatabase('e2e_migrate');

afterAll(() => db.drop());

const migrate = () =>
  run(process.execPath, ['-r', join(WORKSPACE_ROOT, 'runtime-paths.cjs'), join(WORKSPACE_ROOT, 'dist/apps/monitor/src/migrate.js')], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
    timeout: 60_000,
  });

it('creates the database, applies every migration once, and exits 0', async () => {
  const first = await migrate();
  expect(first.stdout).toMatch(/applied migrations: .+\ntaskq schema is current\n$/);
  const [applied] = await queryDatabase<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM migrations');
  expect(applied?.n).toBeGreaterThan(10);
  await queryDatabase(db.url, 'SELECT id FROM tasks LIMIT 1');

  const second = await migrate();
  expect(second.stdout).toBe('taskq schema is current\n');
});
