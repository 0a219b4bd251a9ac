import type { JobState, Queue } from 'bullmq';
import { QueueUnavailableError } from './task-producer';
import { withTimeout } from './with-timeout';

/** A queue whose jobs can be counted: a BullMQ Queue, or a stand-in in tests. */
export type CountingQueue = Pick<Queue, 'getJobCounts'>;

/**
 * How many jobs `queue` holds in each of `states`, in one read. Rejects with
 * QueueUnavailableError when Redis refuses or gives no answer within `timeoutMs`, so a
 * hung Redis never holds the caller (a scrape, a request) longer than that.
 */
export async function countJobs<S extends JobState>(queue: CountingQueue, states: readonly S[], timeoutMs: number): Promise<Record<S, number>> {
  let counts: Record<string, number>;
  try {
    counts = await withTimeout(queue.getJobCounts(...states), timeoutMs);
  } catch (error) {
    throw new QueueUnavailableError(`could not count jobs: ${(error as Error).message}`, { cause: error });
  }
  return Object.fromEntries(states.map((state) => [state, counts[state] ?? 0])) as Record<S, number>;
}
