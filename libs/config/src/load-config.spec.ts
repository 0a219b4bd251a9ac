import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiConfig } from './api-config';
import { ConfigError, loadConfig } from './load-config';
import { WorkerConfig } from './worker-config';

describe('loadConfig', () => {
  it('applies the developer-machine defaults', () => {
    const sut = loadConfig(ApiConfig, {});
    expect(sut).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/taskq',
      port: 3000,
      queuePrefix: 'taskq',
    });
  });

  it('reads and converts variables', () => {
    const sut = loadConfig(WorkerConfig, { PORT: '1', WEBHOOK_ALLOW_PRIVATE: 'true', SHUTDOWN_TIMEOUT_MS: '1500', WORKER_QUEUES: 'email,noop' });
    expect(sut).toMatchObject({ webhookAllowPrivate: true, shutdownTimeoutMs: 1500, workerQueues: 'email,noop' });
  });

  it('names each bad variable in one message', () => {
    expect(() => loadConfig(ApiConfig, { PORT: 'eighty', REDIS_URL: 'http://x' })).toThrow(ConfigError);
    expect(() => loadConfig(ApiConfig, { PORT: 'eighty', REDIS_URL: 'http://x' })).toThrow(/PORT="eighty".*REDIS_URL="http:\/\/x"|REDIS_URL="http:\/\/x".*PORT="eighty"/);
  });

  it('never repeats a secret in its message, and hides the password of a URL', () => {
    expect(() => loadConfig(ApiConfig, { API_KEY: 'too-short-secret' })).toThrow('API_KEY=(hidden): must be at least 32 characters');
    expect(() => loadConfig(ApiConfig, { API_KEY: 'too-short-secret' })).not.toThrow(/too-short-secret/);
    expect(() => loadConfig(ApiConfig, { DATABASE_URL: 'mysql://root:hunter2@db/taskq' })).toThrow('DATABASE_URL="mysql://root:***@db/taskq"');
  });

  it('reads a secret from a *_FILE variable, but an explicit value wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskq-config-'));
    const file = join(dir, 'database-url');
    writeFileSync(file, 'postgres://app:secret@db:5432/taskq\n');
    expect(loadConfig(ApiConfig, { DATABASE_URL_FILE: file }).databaseUrl).toBe('postgres://app:secret@db:5432/taskq');
    expect(loadConfig(ApiConfig, { DATABASE_URL_FILE: file, DATABASE_URL: 'postgres://x@y/z' }).databaseUrl).toBe('postgres://x@y/z');
  });

  it('ignores *_FILE variables that are not its own', () => {
    expect(() => loadConfig(ApiConfig, { SOMETHING_ELSE_FILE: '/does/not/exist' })).not.toThrow();
  });

  describe('Bull Board accounts', () => {
    it('has none by default', () => {
      expect(loadConfig(ApiConfig, {})).toMatchObject({ boardAdminUser: undefined, boardAdminPassword: undefined, boardViewerUser: undefined, boardViewerPassword: undefined });
    });

    it('reads both accounts, a password also from a *_FILE variable', () => {
      const dir = mkdtempSync(join(tmpdir(), 'taskq-config-'));
      const file = join(dir, 'board-admin-password');
      writeFileSync(file, 's3cret: with colon\n');
      const sut = loadConfig(ApiConfig, { BOARD_ADMIN_USER: 'ops', BOARD_ADMIN_PASSWORD_FILE: file, BOARD_VIEWER_USER: 'look', BOARD_VIEWER_PASSWORD: 'only' });
      expect(sut).toMatchObject({ boardAdminUser: 'ops', boardAdminPassword: 's3cret: with colon', boardViewerUser: 'look', boardViewerPassword: 'only' });
    });

    it.each([
      [{ BOARD_ADMIN_USER: 'ops' }, /BOARD_ADMIN_PASSWORD=null: is required when BOARD_ADMIN_USER is set/],
      [{ BOARD_ADMIN_PASSWORD: 'pw' }, /BOARD_ADMIN_USER=null: is required when BOARD_ADMIN_PASSWORD is set/],
      [{ BOARD_VIEWER_USER: 'look' }, /BOARD_VIEWER_PASSWORD=null: is required when BOARD_VIEWER_USER is set/],
      [{ BOARD_VIEWER_PASSWORD: 'pw', BOARD_ADMIN_USER: 'ops', BOARD_ADMIN_PASSWORD: 'pw' }, /BOARD_VIEWER_USER=null: is required when BOARD_VIEWER_PASSWORD is set/],
      [{ BOARD_ADMIN_USER: 'o:ps', BOARD_ADMIN_PASSWORD: 'pw' }, /BOARD_ADMIN_USER="o:ps": must not contain a colon/],
    ])('refuses a user without its password, or the reverse: %j', (env, message) => {
      expect(() => loadConfig(ApiConfig, env)).toThrow(ConfigError);
      expect(() => loadConfig(ApiConfig, env)).toThrow(message);
    });

    it('never repeats a password in its error message', () => {
      const message = (() => {
        try {
          loadConfig(ApiConfig, { BOARD_ADMIN_PASSWORD: 'do-not-print-me' });
          return 'no error';
        } catch (error) {
          return (error as Error).message;
        }
      })();
      expect(message).toMatch(/BOARD_ADMIN_USER=null/);
      expect(message).not.toContain('do-not-print-me');
    });
  });

  it('reports an unreadable secret file', () => {
    expect(() => loadConfig(ApiConfig, { REDIS_URL_FILE: '/does/not/exist' })).toThrow(/REDIS_URL_FILE: cannot read \/does\/not\/exist \(ENOENT\)/);
  });
});
