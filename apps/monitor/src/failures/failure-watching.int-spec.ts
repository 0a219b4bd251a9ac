import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { TaskAdmissions, TaskLifecycleStore, openDataSource } from '@taskq/persistence';
import { TaskProducer } from '@taskq/queue';
import { TEST_REDIS_URL, deleteRedisPrefix, queryDatabase, testDatabase, uniquePrefix, waitFor, type AppProcess } from '@taskq/testing';
import { AlertReceiver } from '../testing/alert-receiver';
import { CapturedLogs, startMonitor, type MonitorTestApp } from '../testing/monitor-test-app';
import { startMonitorProcess, startWorkerProcess, submitSleepTask } from '../testing/task-fixtures';
import { QueueFailureWatcher } from './queue-failure-watcher';

jest.setTimeout(60_000);

const ALERT_INTERVAL_MS = 1_500;

/**
 * The monitor in-process against the real worker process: `sleep` tasks whose attempts time
 * out fail, are retried and die exactly as in production; a local webhook receives the alerts.
 */
describe(QueueFailureWatcher.name, () => {
  const db = testDatabase('monitor_failures');
  const prefix = uniquePrefix('monitor-failures');
  const receiver = new AlertReceiver();
  let monitor: MonitorTestApp;
  let worker: AppProcess;
  let dataSource: DataSource;
  let store: TaskAdmissions;
  let lifecycle: TaskLifecycleStore;
  let redis: Redis;
  let producer: TaskProducer;

  const monitorEnv = (): Record<string, string> => ({
    DATABASE_URL: db.url,
    QUEUE_PREFIX: prefix,
    ALERT_WEBHOOK_URL: receiver.url,
    ALERT_INTERVAL_MS: String(ALERT_INTERVAL_MS),
    ALERT_TIMEOUT_MS: '2000',
  });

  /** A task whose every attempt times out: dead after `maxAttempts`. */
  const doomed = (maxAttempts = 1, retryDelayMs = 50): Promise<string> =>
    submitSleepTask(store, producer, { ms: 5_000, timeoutMs: 100, maxAttempts, backoff: { type: 'fixed', delayMs: retryDelayMs, maxDelayMs: retryDelayMs, jitter: 'none' } });

  const statusOf = async (id: string): Promise<string | undefined> =>
    (await queryDatabase<{ status: string }>(db.url, 'SELECT status FROM tasks WHERE id = $1', [id]))[0]?.status;

  const alerted = (id: string, timeoutMs = 15_000) =>
    waitFor(() => receiver.requests.find((r) => r.status === 200 && r.body.dead.some((dead) => dead.id === id)), { timeoutMs, description: `an alert about ${id}` });

  beforeAll(async () => {
    await receiver.start();
    monitor = await startMonitor(monitorEnv());
    worker = await startWorkerProcess(db.url, prefix);
    dataSource = await openDataSource({ url: db.url });
    store = new TaskAdmissions(dataSource);
    lifecycle = new TaskLifecycleStore(dataSource);
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    producer = new TaskProducer(redis, prefix);
  });

  afterAll(async () => {
    await monitor?.close();
    await worker?.stop();
    await producer?.close();
    redis?.disconnect();
    await dataSource?.destroy();
    await receiver.stop();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  it('logs each failed attempt, retried with or without a delay, then the death, and alerts the dead task', async () => {
    const delayed = await doomed(3, 200);
    const immediate = await doomed(2, 0);

    const alert = await alerted(delayed);
    await alerted(immediate);

    expect(monitor.logs.matching(new RegExp(`^warn \\[Failures\\] task ${delayed} \\(sleep\\) attempt \\d timed out: `))).toEqual([
      expect.stringContaining('attempt 1 timed out'),
      expect.stringContaining('attempt 2 timed out'),
      expect.stringContaining('attempt 3 timed out'),
    ]);
    expect(monitor.logs.matching(new RegExp(`task ${immediate} \\(sleep\\) attempt \\d timed out`))).toHaveLength(2);
    expect(monitor.logs.matching(new RegExp(`^error \\[Failures\\] task ${delayed} \\(sleep\\) is dead after 3 attempt\\(s\\): .+`))).toHaveLength(1);
    expect(alert.body).toMatchObject({ source: 'taskq', count: alert.body.dead.length, dropped: 0 });
    expect(alert.body.dead.find((dead) => dead.id === delayed)).toEqual({
      id: delayed,
      type: 'sleep',
      error: expect.stringMatching(/\S/),
      attempts: 3,
      finishedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      url: `/tasks/${delayed}`,
    });
  });

  it('sends two tasks that die together in one request', async () => {
    const [first, second] = await Promise.all([doomed(), doomed()]);
    const request = await alerted(first as string);
    expect(request.body.dead.map((dead) => dead.id).sort()).toEqual([first, second].sort());
    expect(request.body.count).toBe(2);
  });

  it('retries a delivery the receiver refused, no sooner than the interval, then delivers the batch', async () => {
    receiver.answers.push(500);
    const id = await doomed();
    await alerted(id);
    const attempts = receiver.mentioning(id);
    expect(attempts.map((request) => request.status)).toEqual([500, 200]);
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(ALERT_INTERVAL_MS - 300);
  });

  it('does not report a cancelled task as dead', async () => {
    const cancelled = await submitSleepTask(store, producer, { ms: 10_000, timeoutMs: 20_000, maxAttempts: 3 });
    await waitFor(async () => (await statusOf(cancelled)) === 'active', { description: `task ${cancelled} running` });
    expect((await lifecycle.cancelTask(cancelled))?.previousStatus).toBe('active');
    await producer.broadcastCancel(cancelled);
    await waitFor(() => monitor.logs.matching(new RegExp(`task ${cancelled} \\(sleep\\) was cancelled: not a dead task`)).length > 0, {
      description: 'the cancellation seen by the monitor',
    });
    // Whatever the monitor would have sent about it has gone out by the time a later death is alerted.
    await alerted(await doomed());
    expect(receiver.mentioning(cancelled)).toEqual([]);
    expect(monitor.logs.matching(new RegExp(`task ${cancelled}.*(is dead|attempt \\d (failed|timed out))`))).toEqual([]);
  });

  it('alerts a dead task once when several monitor replicas watch', async () => {
    const replica = await startMonitor(monitorEnv(), monitor.logs);
    try {
      const id = await doomed();
      await alerted(id);
      // Whatever the other replica would have sent about it has gone out by the time a later death is alerted.
      await alerted(await doomed());
      expect(receiver.mentioning(id)).toHaveLength(1);
    } finally {
      await replica.close();
    }
  });

  it('delivers pending alerts on shutdown, and at start alerts the tasks that died while no monitor ran', async () => {
    const beforeShutdown = await doomed();
    await waitFor(() => monitor.logs.matching(new RegExp(`task ${beforeShutdown} \\(sleep\\) is dead`)).length > 0, { description: 'the death logged' });
    await monitor.close();
    expect(receiver.mentioning(beforeShutdown).map((request) => request.status)).toEqual([200]);

    const whileDown = await doomed();
    await waitFor(async () => (await statusOf(whileDown)) === 'dead', { description: `task ${whileDown} dead` });
    monitor = await startMonitor(monitorEnv(), monitor.logs);
    await alerted(whileDown);
    expect(monitor.logs.matching(/1 dead task\(s\) that died while no monitor was watching .* will be alerted/)).toHaveLength(1);
    // Its attempts ended before this monitor watched: nobody saw them fail, and they are not logged late.
    expect(monitor.logs.matching(new RegExp(`task ${whileDown} .*attempt`))).toEqual([]);
  });

  it('alerts at the next start the dead tasks that a killed monitor held undelivered', async () => {
    await monitor.close();
    // A monitor of its own process, whose every request the webhook refuses, is killed: no last delivery.
    receiver.answers.push(...Array<number>(50).fill(503));
    const killed = await startMonitorProcess(monitorEnv());
    let id: string;
    try {
      id = await doomed();
      await waitFor(() => receiver.mentioning(id).length > 0, { description: `a refused alert about ${id}` });
      const [row] = await queryDatabase<{ finished_at: Date }>(db.url, 'SELECT finished_at FROM tasks WHERE id = $1', [id]);
      // Its mark (written every 10 s) never passes the oldest death it has not delivered.
      await new Promise((resolve) => setTimeout(resolve, 11_000));
      expect(Number(await redis.get(`${prefix}:{monitor}:watched-until`))).toBeLessThanOrEqual(row?.finished_at.getTime() ?? 0);
      // Between two requests (they are at least ALERT_INTERVAL_MS apart), so the refused one's claim was given back.
      await waitFor(() => Date.now() - (receiver.requests.at(-1)?.at ?? 0) > 300, { description: 'no request in flight' });
      killed.child.kill('SIGKILL');
      await killed.exited();
    } finally {
      await killed.stop();
      receiver.answers.splice(0);
    }

    monitor = await startMonitor(monitorEnv(), new CapturedLogs());
    await alerted(id);
    expect(monitor.logs.matching(/1 dead task\(s\) that died while no monitor was watching .* will be alerted/)).toHaveLength(1);
    const statuses = receiver.mentioning(id).map((request) => request.status);
    expect(statuses.at(-1)).toBe(200);
    expect(statuses.slice(0, -1).every((status) => status === 503)).toBe(true);
  });

  it('never sent two requests within ALERT_INTERVAL_MS', () => {
    // Arrival times: on a loaded machine a request may travel faster than the one before it.
    // This allows 300 ms of such jitter, a fifth of the interval.
    const gaps = receiver.requests.slice(1).map((request, i) => request.at - (receiver.requests[i]?.at ?? 0));
    expect(receiver.requests.length).toBeGreaterThanOrEqual(6);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(ALERT_INTERVAL_MS - 300);
  });
});
