import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local webhook target that answers 500 on every path until the test heals that path,
 * then 200: a way to make a task dead for real and later let it succeed.
 */
export class FailingEndpoint {
  private readonly healthy = new Set<string>();
  private server?: Server;
  private base = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        if (this.healthy.has(request.url ?? '')) response.writeHead(200).end('fine now');
        else response.writeHead(500).end('broken');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A new path, failing until healed. */
  newPath(): string {
    return `/hook-${randomUUID()}`;
  }

  url(path: string): string {
    return `${this.base}${path}`;
  }

  heal(path: string): void {
    this.healthy.add(path);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
