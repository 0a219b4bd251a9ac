import { TASK_TYPE_NAMES } from '@taskq/contracts';
import { parsePrometheusText } from '@taskq/testing';
import { TaskqMetrics } from './taskq-metrics';

describe(TaskqMetrics.name, () => {
  it('gives every app instance its own registry', async () => {
    const first = new TaskqMetrics('api', { defaultMetrics: false });
    const second = new TaskqMetrics('api', { defaultMetrics: false });

    first.tasksSubmitted.inc({ type: 'noop' }, 3);

    expect(parsePrometheusText(await first.text()).value('taskq_tasks_submitted_total', { type: 'noop' })).toBe(3);
    expect(parsePrometheusText(await second.text()).value('taskq_tasks_submitted_total', { type: 'noop' })).toBe(0);
  });

  it('exports only the families each app feeds, with counters at 0 for every task type', async () => {
    const families = async (app: 'api' | 'worker' | 'monitor'): Promise<string[]> =>
      [...parsePrometheusText(await new TaskqMetrics(app, { defaultMetrics: false }).text()).families.keys()].sort();

    expect(await families('api')).toEqual(['taskq_postgres_write_batch_size', 'taskq_tasks_submitted_total']);
    expect(await families('worker')).toEqual([
      'taskq_postgres_write_batch_size',
      'taskq_task_attempt_duration_seconds',
      'taskq_task_attempts_failed_total',
      'taskq_task_attempts_lost_total',
      'taskq_task_queue_wait_seconds',
      'taskq_tasks_completed_total',
      'taskq_tasks_dead_total',
    ]);
    expect(await families('monitor')).toEqual([
      'taskq_callback_deliveries_total',
      'taskq_callbacks_pending',
      'taskq_postgres_write_batch_size',
      'taskq_reconciler_repairs_total',
      'taskq_reconciler_requeued_total',
      'taskq_reconciler_run_duration_seconds',
      'taskq_task_attempts_lost_total',
      'taskq_tasks_dead_total',
    ]);
    const worker = parsePrometheusText(await new TaskqMetrics('worker', { defaultMetrics: false }).text());
    expect(worker.select('taskq_tasks_completed_total').map((sample) => sample.labels['type'])).toEqual([...TASK_TYPE_NAMES]);
  });

  it('counts attempts by outcome: time-outs are failures, and a dead task is counted once', async () => {
    const sut = new TaskqMetrics('worker', { defaultMetrics: false });

    sut.recordAttempt('webhook', 'failed', 120, false);
    sut.recordAttempt('webhook', 'timed_out', 10_000, true);
    sut.recordAttempt('noop', 'completed', 4, false);
    sut.recordAttempt('sleep', 'cancelled', 50, false);

    const scrape = parsePrometheusText(await sut.text());
    expect(scrape.value('taskq_task_attempts_failed_total', { type: 'webhook' })).toBe(2);
    expect(scrape.value('taskq_tasks_dead_total', { type: 'webhook' })).toBe(1);
    expect(scrape.value('taskq_tasks_completed_total', { type: 'noop' })).toBe(1);
    expect(scrape.value('taskq_tasks_completed_total', { type: 'sleep' })).toBe(0);
    expect(scrape.value('taskq_task_attempt_duration_seconds_count', { type: 'webhook', outcome: 'timed_out' })).toBe(1);
    expect(scrape.value('taskq_task_attempt_duration_seconds_sum', { type: 'webhook', outcome: 'timed_out' })).toBe(10);
    expect(scrape.value('taskq_task_attempt_duration_seconds_bucket', { type: 'noop', outcome: 'completed', le: '0.005' })).toBe(1);
    expect(scrape.value('taskq_task_attempt_duration_seconds_count', { type: 'sleep', outcome: 'cancelled' })).toBe(1);
  });

  it('observes queue waits in seconds, a negative wait (clock skew) as 0', async () => {
    const sut = new TaskqMetrics('worker', { defaultMetrics: false });

    sut.recordQueueWait('email', 2_500);
    sut.recordQueueWait('email', -40);

    const scrape = parsePrometheusText(await sut.text());
    expect(scrape.value('taskq_task_queue_wait_seconds_count', { type: 'email' })).toBe(2);
    expect(scrape.value('taskq_task_queue_wait_seconds_sum', { type: 'email' })).toBe(2.5);
    expect(scrape.value('taskq_task_queue_wait_seconds_bucket', { type: 'email', le: '0.005' })).toBe(1);
  });

  it("is TaskStore's onBatch: batch sizes by statement kind", async () => {
    const sut = new TaskqMetrics('monitor', { defaultMetrics: false });

    sut.observeWriteBatch('insert', 200);
    sut.observeWriteBatch('finish', 1);

    const scrape = parsePrometheusText(await sut.text());
    expect(scrape.value('taskq_postgres_write_batch_size_bucket', { kind: 'insert', le: '100' })).toBe(0);
    expect(scrape.value('taskq_postgres_write_batch_size_bucket', { kind: 'insert', le: '250' })).toBe(1);
    expect(scrape.value('taskq_postgres_write_batch_size_count', { kind: 'finish' })).toBe(1);
  });

  it('counts the tasks the reconciler re-queued by type, and times its runs by result', async () => {
    const sut = new TaskqMetrics('monitor', { defaultMetrics: false });

    sut.recordReconcilerRun({ email: 3, webhook: 1 }, 1_500, 'completed');
    sut.recordReconcilerRun({}, 20, 'failed');
    sut.recordReconcilerRun({ email: 2 }, 40, 'interrupted');

    const scrape = parsePrometheusText(await sut.text());
    expect(scrape.value('taskq_reconciler_requeued_total', { type: 'email' })).toBe(5);
    expect(scrape.value('taskq_reconciler_requeued_total', { type: 'webhook' })).toBe(1);
    expect(scrape.value('taskq_reconciler_requeued_total', { type: 'noop' })).toBe(0);
    expect(scrape.value('taskq_reconciler_run_duration_seconds_sum', { result: 'completed' })).toBe(1.5);
    expect(scrape.value('taskq_reconciler_run_duration_seconds_count', { result: 'failed' })).toBe(1);
    expect(scrape.value('taskq_reconciler_run_duration_seconds_count', { result: 'interrupted' })).toBe(1);
  });

  it('includes the default process metrics, and answers in the Prometheus text format', async () => {
    const sut = new TaskqMetrics('api');

    const scrape = parsePrometheusText(await sut.text());

    expect(sut.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(scrape.families.get('process_cpu_user_seconds_total')?.type).toBe('counter');
    expect(scrape.families.get('nodejs_heap_size_used_bytes')?.type).toBe('gauge');
    expect(scrape.families.get('taskq_postgres_write_batch_size')).toMatchObject({ type: 'histogram', help: expect.stringContaining('PostgreSQL') });
  });
});
