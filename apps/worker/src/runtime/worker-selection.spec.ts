import { StartupFailure, WorkerConfig, loadConfig } from '@taskq/config';
import { TASK_TYPE_NAMES, getTaskType } from '@taskq/contracts';
import { selectQueues } from './worker-selection';

const sut = selectQueues;

/** Bypasses loadConfig's syntax check, so the per-type parser's own errors show. */
const config = (workerQueues: string, workerConcurrency = ''): WorkerConfig => Object.assign(new WorkerConfig(), { workerQueues, workerConcurrency });

describe(selectQueues.name, () => {
  it('serves every registered type with its registry concurrency by default', () => {
    const defaults = loadConfig(WorkerConfig, {});

    expect(sut(defaults)).toEqual(TASK_TYPE_NAMES.map((type) => ({ type, concurrency: getTaskType(type).concurrency })));
    expect(sut(defaults).map((queue) => queue.type)).toEqual(TASK_TYPE_NAMES);
  });

  it('serves only the listed types, in the order given, once each', () => {
    expect(sut(config('webhook, noop,webhook'))).toEqual([
      { type: 'webhook', concurrency: getTaskType('webhook').concurrency },
      { type: 'noop', concurrency: getTaskType('noop').concurrency },
    ]);
  });

  it('applies WORKER_CONCURRENCY overrides to the types it names and registry defaults to the rest', () => {
    const fromEnv = loadConfig(WorkerConfig, { WORKER_QUEUES: 'email,webhook,noop', WORKER_CONCURRENCY: 'webhook=50,email=1' });

    expect(sut(fromEnv)).toEqual([
      { type: 'email', concurrency: 1 },
      { type: 'webhook', concurrency: 50 },
      { type: 'noop', concurrency: getTaskType('noop').concurrency },
    ]);
  });

  it('accepts an override for a type this process does not serve without serving it', () => {
    expect(sut(config('noop', 'sleep=3'))).toEqual([{ type: 'noop', concurrency: getTaskType('noop').concurrency }]);
  });

  it('refuses an unknown type in WORKER_QUEUES, naming it and the known types', () => {
    expect(() => sut(config('noop,emails'))).toThrow(StartupFailure);
    expect(() => sut(config('noop,emails'))).toThrow(`unknown task types: emails (known: ${TASK_TYPE_NAMES.join(', ')})`);
  });

  it('does not take inherited object keys for task types', () => {
    expect(() => sut(config('constructor'))).toThrow(StartupFailure);
    expect(() => sut(config('noop', '__proto__=2'))).toThrow(/WORKER_CONCURRENCY names an unknown task type: __proto__/);
  });

  it('refuses an unknown type in WORKER_CONCURRENCY', () => {
    expect(() => sut(config('*', 'noop=2,webhok=5'))).toThrow(StartupFailure);
    expect(() => sut(config('*', 'noop=2,webhok=5'))).toThrow(/unknown task type: webhok/);
  });

  it.each(['noop=0', 'noop=10001', 'noop=1.5', 'noop='])('refuses an out-of-range concurrency (%s)', (overrides) => {
    expect(() => sut(config('*', overrides))).toThrow(new StartupFailure('WORKER_CONCURRENCY for noop must be an integer from 1 to 10000'));
  });
});
