import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import { TaskProducer } from '@taskq/queue';
import { TEST_REDIS_URL, deleteRedisPrefix, testDatabase, uniquePrefix, type TestDatabase } from '@taskq/testing';
import { startApi, startWorker, type WorkerProcess } from '../tasks/testing/test-apps';

export interface ApiHarnessOptions {
  /** Names the test's own database and BullMQ prefix. */
  label: string;
  /** Variables for the API (added to startApi's). */
  env?: Record<string, string>;
  /** Also run the built worker on the same database and prefix, with these variables. */
  worker?: Record<string, string>;
}

/** What an API integration spec works with; each part is there from its `beforeAll` on. */
export interface ApiHarness {
  readonly db: TestDatabase;
  readonly prefix: string;
  /** The API in-process; `app.inject` sends the test API key. */
  readonly app: NestFastifyApplication;
  /** A producer on its own Redis connection: the queues as a client outside the API sees them. */
  readonly producer: TaskProducer;
  /** That Redis connection. */
  readonly redis: Redis;
  /** The worker process (only with `options.worker`); a spec may close it early. */
  readonly worker: WorkerProcess;
  /** Runs at teardown before the harness closes its own parts (the last registered first). */
  onClose(close: () => Promise<unknown> | void): void;
}

/**
 * The API, optionally a worker, and a producer of its own, started in `beforeAll` and closed in
 * `afterAll` of the describe block (or file) it is called in, with the database dropped and the
 * prefix's Redis keys deleted.
 */
export function useApiHarness(options: ApiHarnessOptions): ApiHarness {
  const db = testDatabase(options.label);
  const prefix = uniquePrefix(options.label);
  const closers: Array<() => Promise<unknown> | void> = [];
  const parts: { app?: NestFastifyApplication; producer?: TaskProducer; redis?: Redis; worker?: WorkerProcess } = {};
  const started = <K extends keyof typeof parts>(name: K): NonNullable<(typeof parts)[K]> => {
    const part = parts[name];
    if (!part) throw new Error(`the harness has no ${name}${name === 'worker' ? ' (options.worker)' : ''} yet: use it from beforeAll on`);
    return part as NonNullable<(typeof parts)[K]>;
  };

  beforeAll(async () => {
    parts.app = await startApi(db.url, prefix, options.env);
    if (options.worker) parts.worker = closingOnce(await startWorker(db.url, prefix, options.worker));
    parts.redis = new Redis(TEST_REDIS_URL);
    parts.producer = new TaskProducer(parts.redis, prefix);
  });

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await parts.worker?.close();
    await parts.producer?.close();
    parts.redis?.disconnect();
    await parts.app?.close();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  return {
    db,
    prefix,
    get app() {
      return started('app');
    },
    get producer() {
      return started('producer');
    },
    get redis() {
      return started('redis');
    },
    get worker() {
      return started('worker');
    },
    onClose: (close) => void closers.push(close),
  };
}

/** A spec may stop the worker itself (e.g. to see what happens without one): teardown then leaves it be. */
function closingOnce(worker: WorkerProcess): WorkerProcess {
  let closing: Promise<void> | undefined;
  return { listenerUrl: worker.listenerUrl, close: () => (closing ??= worker.close()) };
}
