import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeadTaskAlertPayload } from '@taskq/contracts';

export interface ReceivedAlert {
  /** When the request arrived (ms since the epoch). */
  at: number;
  status: number;
  body: DeadTaskAlertPayload;
}

/** A local webhook that records every alert request and answers with the queued statuses (then 200). */
export class AlertReceiver {
  readonly requests: ReceivedAlert[] = [];
  /** Statuses for the next requests, in order. */
  readonly answers: number[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        const status = this.answers.shift() ?? 200;
        this.requests.push({ at: Date.now(), status, body: JSON.parse(text) as DeadTaskAlertPayload });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/taskq?token=secret`;
    return this;
  }

  /** The requests whose batch lists this task. */
  mentioning(taskId: string): ReceivedAlert[] {
    return this.requests.filter((request) => request.body.dead.some((dead) => dead.id === taskId));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
