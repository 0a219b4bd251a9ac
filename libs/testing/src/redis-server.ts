import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { TEST_REDIS_MODE } from './isolation';
import { startPrivateRedisCluster } from './redis-cluster';
import { waitFor } from './wait-for';

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

/**
 * A throw-away redis-server on its own port, for tests that stop Redis on purpose
 * (outages, restarts) without disturbing the shared instance. `port`: start it on this one
 * (a restart: stop the old server, then start an empty one where it was).
 */
export async function startPrivateRedis(options: { port?: number } = {}): Promise<PrivateRedis> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = options.port ?? 20_000 + Math.floor(Math.random() * 20_000);
    const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], {
      stdio: 'ignore',
    });
    const url = `redis://127.0.0.1:${port}`;
    const exited = once(child, 'exit');
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error('redis-server exited');
          const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
          probe.on('error', () => undefined);
          try {
            await probe.connect();
            return (await probe.ping()) === 'PONG';
          } finally {
            probe.disconnect();
          }
        },
        { timeoutMs: 5_000, description: `redis-server on ${port}` },
      );
    } catch {
      child.kill('SIGKILL');
      continue;
    }
    return {
      url,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
      },
    };
  }
  throw new Error('could not start a private redis-server');
}

export interface SuiteRedis {
  url: string;
  /** Redis loses its data under the running stack: restarted empty where it was. */
  restartEmpty(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private Redis of the kind the suite runs against (TEST_REDIS_MODE): one server, or a
 * three-master cluster. For suites that take Redis's data away from a running stack.
 */
export async function startSuiteRedis(): Promise<SuiteRedis> {
  if (TEST_REDIS_MODE === 'cluster') return startPrivateRedisCluster();
  let server = await startPrivateRedis();
  return {
    url: server.url,
    async restartEmpty() {
      await server.stop();
      server = await startPrivateRedis({ port: Number(new URL(server.url).port) });
    },
    stop: () => server.stop(),
  };
}
