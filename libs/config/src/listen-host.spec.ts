import { ApiConfig } from './api-config';
import { loadConfig } from './load-config';
import { MonitorConfig } from './monitor-config';
import { WorkerConfig } from './worker-config';

describe('listener hosts', () => {
  it.each([{}, { NODE_ENV: 'development' }, { NODE_ENV: 'test' }])('bind the loopback outside production (%j)', (env) => {
    expect(loadConfig(ApiConfig, env).host).toBe('127.0.0.1');
    expect(loadConfig(WorkerConfig, env).metricsHost).toBe('127.0.0.1');
    expect(loadConfig(MonitorConfig, env).metricsHost).toBe('127.0.0.1');
  });

  it('bind every interface in production, as before: the API 0.0.0.0, the metrics listeners the default', () => {
    const production = { NODE_ENV: 'production', API_KEY: 'k'.repeat(32) };
    expect(loadConfig(ApiConfig, production).host).toBe('0.0.0.0');
    expect(loadConfig(WorkerConfig, production).metricsHost).toBeUndefined();
    expect(loadConfig(MonitorConfig, production).metricsHost).toBeUndefined();
  });

  it('bind what HOST and METRICS_HOST say, in any environment', () => {
    for (const NODE_ENV of ['development', 'production']) {
      expect(loadConfig(ApiConfig, { NODE_ENV, HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
      expect(loadConfig(ApiConfig, { NODE_ENV, HOST: '10.0.0.5' }).host).toBe('10.0.0.5');
      expect(loadConfig(WorkerConfig, { NODE_ENV, METRICS_HOST: '0.0.0.0' }).metricsHost).toBe('0.0.0.0');
      expect(loadConfig(MonitorConfig, { NODE_ENV, METRICS_HOST: '::' }).metricsHost).toBe('::');
    }
  });

  it('take an empty HOST for unset', () => {
    expect(loadConfig(ApiConfig, { NODE_ENV: '', HOST: '' }).host).toBe('127.0.0.1');
  });
});
