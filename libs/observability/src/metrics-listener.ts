import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TaskqMetrics } from './taskq-metrics';

export interface HealthStatus {
  healthy: boolean;
  /** Shown in the body, e.g. `ok`, `stopping`. */
  status: string;
}

export interface MetricsListenerOptions {
  /** 0 picks a free port; below 0 the listener is off. */
  port: number;
  /** Interface to bind; undefined: every interface. */
  host?: string;
  metrics: TaskqMetrics;
  health: () => HealthStatus;
}

/**
 * The small HTTP listener of the processes without an HTTP API (worker, monitor):
 * `GET /health` (200, or 503 when unhealthy) and `GET /metrics` (Prometheus text).
 */
export class MetricsListener {
  private server?: Server;

  constructor(private readonly options: MetricsListenerOptions) {}

  /** Resolves with the port it listens on, or null when disabled. */
  async start(): Promise<number | null> {
    if (this.options.port < 0) return null;
    const server = createServer((request, response) => void this.answer(request, response));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.options.port, host: this.options.host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  /** The port it listens on, or null before start() and when disabled. */
  get port(): number | null {
    const address = this.server?.listening ? this.server.address() : null;
    return address && typeof address === 'object' ? address.port : null;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return;
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/health' && path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    if (path === '/health') {
      const { healthy, status } = this.options.health();
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status }));
      return;
    }
    try {
      const text = await this.options.metrics.text();
      response.writeHead(200, { 'content-type': this.options.metrics.contentType }).end(request.method === 'HEAD' ? undefined : text);
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics unavailable: ${(error as Error).message}\n`);
    }
  }
}
