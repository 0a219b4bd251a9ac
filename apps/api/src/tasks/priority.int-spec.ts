import type { BulkSubmitResponse, SubmitTaskResponse } from '@taskq/contracts';
import { queryDatabase, waitFor } from '@taskq/testing';
import { TaskSubmissionService } from './task-submission.service';
import { send, waitForStatus } from './testing/test-apps';
import { useApiHarness } from '../testing/api-harness';

jest.setTimeout(30_000);

interface Run {
  id: string;
  started_at: Date;
  finished_at: Date;
}

/**
 * `priority` 1..1000, lower first; tasks without one run after prioritised ones, FIFO.
 * One worker serves only `sleep`, one job at a time, so the order of attempts is the order
 * in which BullMQ handed the jobs out.
 */
describe(`${TaskSubmissionService.name} priorities`, () => {
  const api = useApiHarness({ label: 'priority', worker: { WORKER_QUEUES: 'sleep', WORKER_CONCURRENCY: 'sleep=1' } });

  const submit = async (body: Record<string, unknown>): Promise<string> => {
    const response = await send(api.app, 'POST', '/tasks', body);
    expect(response.statusCode).toBe(202);
    return response.json<SubmitTaskResponse>().id;
  };

  /** First attempts of the given tasks, once all completed, in the order they started. */
  const runsOf = async (ids: string[]): Promise<Run[]> => {
    await waitFor(
      async () => {
        const [row] = await queryDatabase<{ n: number }>(api.db.url, `SELECT count(*)::int AS n FROM tasks WHERE id = ANY($1::uuid[]) AND status = 'completed'`, [ids]);
        return row?.n === ids.length;
      },
      { timeoutMs: 15_000, description: `${ids.length} tasks completed` },
    );
    return queryDatabase<Run>(
      api.db.url,
      `SELECT t.id, a.started_at, t.finished_at FROM tasks t JOIN task_attempts a ON a.task_id = t.id AND a.number = 1
        WHERE t.id = ANY($1::uuid[]) ORDER BY a.started_at, t.finished_at`,
      [ids],
    );
  };

  /** Occupies the single slot, so that everything submitted next waits behind it. */
  const occupyWorker = async (): Promise<string> => {
    const blocker = await submit({ type: 'sleep', payload: { ms: 2_500 } });
    await waitForStatus(api.db.url, blocker, 'active');
    return blocker;
  };

  const expectStillActive = async (id: string): Promise<void> => {
    // Otherwise the worker could have taken tasks before all were queued: the test proves nothing.
    expect((await queryDatabase<{ status: string }>(api.db.url, 'SELECT status FROM tasks WHERE id = $1', [id]))[0]?.status).toBe('active');
  };

  it('lets a priority 1 task overtake a backlog of unprioritised tasks', async () => {
    const blocker = await occupyWorker();
    const backlog: string[] = [];
    for (let i = 0; i < 10; i++) backlog.push(await submit({ type: 'sleep', payload: { ms: 5 } }));
    const urgent = await submit({ type: 'sleep', payload: { ms: 5 }, priority: 1 });
    await expectStillActive(blocker);

    const runs = await runsOf([...backlog, urgent]);

    // The urgent task runs first, then the backlog, first in, first out.
    expect(runs.map((run) => run.id)).toEqual([urgent, ...backlog]);
  });

  it('runs waiting tasks by priority, lower first, then the unprioritised ones in FIFO order', async () => {
    const blocker = await occupyWorker();
    const queued = [
      { name: 'plain-a' },
      { name: 'p500-a', priority: 500 },
      { name: 'plain-b' },
      { name: 'p1', priority: 1 },
      { name: 'p500-b', priority: 500 },
      { name: 'p1000', priority: 1_000 },
      { name: 'plain-c' },
    ];

    const response = await send(api.app, 'POST', '/tasks/bulk', {
      tasks: queued.map(({ priority }) => ({ type: 'sleep', payload: { ms: 5 }, ...(priority === undefined ? {} : { priority }) })),
    });
    expect(response.statusCode).toBe(202);
    await expectStillActive(blocker);

    const ids = response.json<BulkSubmitResponse>().tasks.map((task) => task.id);
    const nameOf = new Map(ids.map((id, index) => [id, queued[index]?.name]));
    const order = (await runsOf(ids)).map((run) => nameOf.get(run.id));
    expect(order).toEqual(['p1', 'p500-a', 'p500-b', 'p1000', 'plain-a', 'plain-b', 'plain-c']);
  });
});
