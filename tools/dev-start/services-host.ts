/**
 * Runs the embedded services for `npm start` in a process group of its own, so that Ctrl-C in
 * the terminal reaches the apps but not PostgreSQL and Redis: the runner stops those itself,
 * after the apps. Started by main.ts through `fork` (detached); talks over IPC:
 * in `{ redis?: dir, postgres?: { dir, database } }`, out `{ redisUrl?, databaseUrl? }` or
 * `{ error }`; `'stop'` (or the runner going away) stops the services and exits.
 */
import { startEmbeddedPostgres, startEmbeddedRedis, type Service } from './services';

interface Request {
  redis?: string;
  postgres?: { dir: string; database: string };
}

const services: Service[] = [];
let stopping = false;

async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const service of services.reverse()) await service.stop().catch(() => undefined);
  process.exit(0);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.removeAllListeners(signal);
  process.on(signal, () => void stopAll());
}
process.on('disconnect', () => void stopAll());
process.on('message', (message: Request | 'stop') => {
  if (message === 'stop') return void stopAll();
  void (async () => {
    try {
      const reply: { redisUrl?: string; databaseUrl?: string } = {};
      if (message.redis) {
        const redis = await startEmbeddedRedis(message.redis);
        services.push(redis);
        reply.redisUrl = redis.url;
      }
      if (message.postgres) {
        const postgres = await startEmbeddedPostgres(message.postgres.dir, message.postgres.database);
        services.push(postgres);
        reply.databaseUrl = postgres.url;
      }
      process.send?.(reply);
    } catch (error) {
      process.send?.({ error: error instanceof Error ? error.message : String(error) });
    }
  })();
});
