import { parsePrometheusText, type PrometheusScrape } from '@taskq/testing';
import { send, startWorker, waitForStatus, type WorkerProcess } from '../tasks/testing/test-apps';
import { useApiHarness } from '../testing/api-harness';

jest.setTimeout(60_000);

const PROMETHEUS_TEXT = /^text\/plain; version=0\.0\.4; charset=utf-8$/;

/**
 * The metrics follow real work: tasks submitted to the API in-process, run by the built
 * worker as a separate process; the API's /metrics and the worker's listener are scraped.
 */
describe('metrics', () => {
  const harness = useApiHarness({ label: 'api_metrics' });
  let worker: WorkerProcess | undefined;
  harness.onClose(() => worker?.close());

  async function apiScrape(): Promise<PrometheusScrape> {
    const response = await send(harness.app, 'GET', '/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(PROMETHEUS_TEXT);
    return parsePrometheusText(response.body);
  }

  async function workerScrape(): Promise<PrometheusScrape> {
    const response = await fetch(`${worker?.listenerUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(PROMETHEUS_TEXT);
    return parsePrometheusText(await response.text());
  }

  async function submit(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; id: string }> {
    const response = await send(harness.app, 'POST', '/submit-task', body, headers);
    return { status: response.statusCode, id: (response.json() as { id: string }).id };
  }

  it('counts the tasks the API created per type (not idempotent replays) and shows them in their queues', async () => {
    const first = await submit({ type: 'noop', payload: {} }, { 'idempotency-key': 'metrics-once' });
    const replay = await submit({ type: 'noop', payload: {} }, { 'idempotency-key': 'metrics-once' });
    const bulk = await send(harness.app, 'POST', '/tasks/bulk', {
      tasks: [
        { type: 'noop', payload: {} },
        { type: 'noop', payload: {}, idempotencyKey: 'metrics-once' },
        { type: 'sleep', payload: { ms: 1 }, delayMs: 600_000 },
      ],
    });
    expect([first.status, replay.status, bulk.statusCode]).toEqual([202, 200, 202]);

    const scrape = await apiScrape();

    expect(scrape.families.get('taskq_tasks_submitted_total')?.type).toBe('counter');
    expect(scrape.value('taskq_tasks_submitted_total', { type: 'noop' })).toBe(2);
    expect(scrape.value('taskq_tasks_submitted_total', { type: 'sleep' })).toBe(1);
    expect(scrape.value('taskq_tasks_submitted_total', { type: 'email' })).toBe(0);
    expect(scrape.value('taskq_queue_jobs', { type: 'noop', state: 'prioritized' })).toBe(2);
    expect(scrape.value('taskq_queue_jobs', { type: 'sleep', state: 'delayed' })).toBe(1);
    expect(scrape.value('taskq_queue_depth_up')).toBe(1);
    // The single submission went through the group-committed insert (bulk inserts are one statement already).
    expect(scrape.value('taskq_postgres_write_batch_size_count', { kind: 'insert' })).toBe(1);
    expect(scrape.families.has('process_cpu_user_seconds_total')).toBe(true);
  });

  it("counts completions, failures, time-outs and dead tasks on the worker's listener, with attempt and queue-wait timings", async () => {
    worker = await startWorker(harness.db.url, harness.prefix, { WEBHOOK_ALLOW_PRIVATE: 'true' });
    const health = await fetch(`${worker.listenerUrl}/health`);
    expect(health.status).toBe(200);

    // Port 1 refuses connections: two failed attempts, then dead.
    const webhook = await submit({ type: 'webhook', payload: { url: 'http://127.0.0.1:1/hook' }, maxAttempts: 2, backoff: { type: 'fixed', delayMs: 10, jitter: 'none' } });
    const slow = await submit({ type: 'sleep', payload: { ms: 10_000 }, timeoutMs: 100, maxAttempts: 1 });
    // Runnable only in 2 s: its queue wait counts from then, not from the submission.
    const later = await submit({ type: 'report', payload: { windowMinutes: 5 }, delayMs: 2_000 });
    await waitForStatus(harness.db.url, webhook.id, 'dead');
    await waitForStatus(harness.db.url, slow.id, 'dead');
    await waitForStatus(harness.db.url, later.id, 'completed');

    const scrape = await workerScrape();

    // The two noop tasks of the first test ran too.
    expect(scrape.value('taskq_tasks_completed_total', { type: 'noop' })).toBe(2);
    expect(scrape.value('taskq_tasks_completed_total', { type: 'report' })).toBe(1);
    expect(scrape.value('taskq_task_attempts_failed_total', { type: 'webhook' })).toBe(2);
    expect(scrape.value('taskq_tasks_dead_total', { type: 'webhook' })).toBe(1);
    expect(scrape.value('taskq_task_attempts_failed_total', { type: 'sleep' })).toBe(1);
    expect(scrape.value('taskq_tasks_dead_total', { type: 'sleep' })).toBe(1);
    expect(scrape.value('taskq_tasks_dead_total', { type: 'noop' })).toBe(0);

    expect(scrape.families.get('taskq_task_attempt_duration_seconds')?.type).toBe('histogram');
    expect(scrape.value('taskq_task_attempt_duration_seconds_count', { type: 'webhook', outcome: 'failed' })).toBe(2);
    expect(scrape.value('taskq_task_attempt_duration_seconds_count', { type: 'sleep', outcome: 'timed_out' })).toBe(1);
    expect(scrape.value('taskq_task_attempt_duration_seconds_sum', { type: 'sleep', outcome: 'timed_out' })).toBeGreaterThanOrEqual(0.09);
    expect(scrape.value('taskq_task_attempt_duration_seconds_bucket', { type: 'sleep', outcome: 'timed_out', le: '+Inf' })).toBe(1);

    // First attempts only: the webhook's retry is not a queue wait.
    expect(scrape.value('taskq_task_queue_wait_seconds_count', { type: 'webhook' })).toBe(1);
    expect(scrape.value('taskq_task_queue_wait_seconds_count', { type: 'report' })).toBe(1);
    expect(scrape.value('taskq_task_queue_wait_seconds_sum', { type: 'report' })).toBeLessThan(1.5);

    expect(scrape.value('taskq_postgres_write_batch_size_count', { kind: 'start' })).toBeGreaterThan(0);
    expect(scrape.value('taskq_postgres_write_batch_size_count', { kind: 'finish' })).toBeGreaterThan(0);
    expect(scrape.families.has('taskq_tasks_submitted_total')).toBe(false);

    const api = await apiScrape();
    expect(api.value('taskq_queue_jobs', { type: 'noop', state: 'prioritized' })).toBe(0);
    expect(api.value('taskq_queue_jobs', { type: 'noop', state: 'completed' })).toBe(2);
    expect(api.value('taskq_queue_jobs', { type: 'webhook', state: 'failed' })).toBe(1);
    expect(api.value('taskq_queue_jobs', { type: 'sleep', state: 'delayed' })).toBe(1);
    expect(api.value('taskq_dead_letter_jobs', { state: 'waiting' })).toBe(2);
  });
});
