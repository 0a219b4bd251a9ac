import { parsePrometheusText } from '@taskq/testing';
import { MetricsListener } from './metrics-listener';
import { TaskqMetrics } from './taskq-metrics';

describe(MetricsListener.name, () => {
  let healthy = true;
  const metrics = new TaskqMetrics('worker');
  const sut = new MetricsListener({ port: 0, metrics, health: () => (healthy ? { healthy, status: 'ok' } : { healthy, status: 'stopping' }) });
  let base: string;

  beforeAll(async () => {
    base = `http://127.0.0.1:${await sut.start()}`;
  });

  afterAll(() => sut.close());

  it('answers /metrics with the registry in the Prometheus text format', async () => {
    metrics.recordAttempt('noop', 'completed', 3, false);

    const response = await fetch(`${base}/metrics`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(metrics.contentType);
    const scrape = parsePrometheusText(await response.text());
    expect(scrape.value('taskq_tasks_completed_total', { type: 'noop' })).toBe(1);
    expect(scrape.families.has('process_resident_memory_bytes')).toBe(true);
  });

  it('answers /health with 200 while healthy, 503 once not', async () => {
    const ok = await fetch(`${base}/health`);
    expect({ status: ok.status, body: (await ok.json()) as unknown }).toEqual({ status: 200, body: { status: 'ok' } });

    healthy = false;
    const stopping = await fetch(`${base}/health`);
    expect({ status: stopping.status, body: (await stopping.json()) as unknown }).toEqual({ status: 503, body: { status: 'stopping' } });
    healthy = true;
  });

  it('answers anything else with 404, and other methods with 405', async () => {
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metricsx`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('does not listen when the port is -1, and stops listening on close', async () => {
    const off = new MetricsListener({ port: -1, metrics, health: () => ({ healthy: true, status: 'ok' }) });
    await expect(off.start()).resolves.toBeNull();
    expect(off.port).toBeNull();

    const other = new MetricsListener({ port: 0, metrics, health: () => ({ healthy: true, status: 'ok' }) });
    const port = await other.start();
    expect(other.port).toBe(port);
    await other.close();
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });
});
