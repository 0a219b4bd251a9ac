import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Client } from 'pg';

/** The tables a request can write to. */
const WATCHED_TABLES = ['tasks', 'task_attempts', 'schedules', 'api_keys', 'console_sessions'];
/** Where a BullMQ queue keeps its jobs, by state (lists, then sorted sets), and its job schedulers. */
const LISTS = ['wait', 'paused', 'active'];
const SORTED_SETS = ['prioritized', 'delayed', 'completed', 'failed', 'waiting-children', 'repeat'];
/** The sizes of the lists (KEYS[1..ARGV[1]]) and sorted sets (the rest), in one round trip. */
const SIZES = `
local sizes = {}
for i, key in ipairs(KEYS) do
  if i <= tonumber(ARGV[1]) then sizes[i] = redis.call('LLEN', key) else sizes[i] = redis.call('ZCARD', key) end
end
return sizes`;

/**
 * Tells whether anything changed in PostgreSQL or in the queues in Redis, cheaply enough to
 * ask after every one of thousands of requests: row-level triggers count every inserted,
 * updated and deleted row of the watched tables (exact, and O(1) to read), and the size of
 * every queue's job lists by state and of its job schedulers stands for Redis (one pipeline).
 */
export class StoreWatch {
  private readonly lists: string[];
  private readonly sortedSets: string[];

  private constructor(
    private readonly client: Client,
    private readonly redis: Redis,
    queues: Queue[],
  ) {
    this.lists = queues.flatMap((queue) => LISTS.map((type) => queue.toKey(type)));
    this.sortedSets = queues.flatMap((queue) => SORTED_SETS.map((type) => queue.toKey(type)));
  }

  /** Installs the counting triggers in the test's own database. */
  static async install(databaseUrl: string, redis: Redis, queues: Queue[]): Promise<StoreWatch> {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`
      CREATE TABLE fuzz_row_changes (n bigint NOT NULL);
      INSERT INTO fuzz_row_changes VALUES (0);
      CREATE FUNCTION fuzz_count_row_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN UPDATE fuzz_row_changes SET n = n + 1; RETURN NULL; END $$;
      ${WATCHED_TABLES.map((table) => `CREATE TRIGGER fuzz_count AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION fuzz_count_row_change();`).join('\n')}
    `);
    return new StoreWatch(client, redis, queues);
  }

  /** Rows written so far, and the size of every job list: equal fingerprints, nothing changed. */
  async fingerprint(): Promise<string> {
    const keys = [...this.lists, ...this.sortedSets];
    const [rows, sizes] = await Promise.all([
      this.client.query<{ n: string }>({ name: 'fuzz-row-changes', text: 'SELECT n FROM fuzz_row_changes' }),
      this.redis.eval(SIZES, keys.length, ...keys, this.lists.length) as Promise<number[]>,
    ]);
    const jobs = keys.flatMap((key, index) => (sizes[index] ? [`${key}=${sizes[index]}`] : []));
    return `rows written: ${rows.rows[0]?.n}; ${jobs.join(' ')}`;
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
