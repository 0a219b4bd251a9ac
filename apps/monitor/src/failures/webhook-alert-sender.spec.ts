import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@taskq/testing';
import { WebhookAlertSender } from './webhook-alert-sender';

const payload = { source: 'taskq' as const, dead: [], count: 0, dropped: 0 };

describe(WebhookAlertSender.name, () => {
  let server: Server;
  let base: string;
  const received: Array<{ method?: string; type?: string; body: string }> = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ method: request.method, type: request.headers['content-type'], body });
        if (request.url?.startsWith('/silent')) return; // never answers
        response.writeHead(Number.parseInt(request.url?.split('/')[1] ?? '200', 10)).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('POSTs the payload as JSON and accepts any 2xx', async () => {
    await expect(new WebhookAlertSender(`${base}/204`, 2_000).send(payload)).resolves.toBeUndefined();
    expect(received.at(-1)).toEqual({ method: 'POST', type: 'application/json', body: JSON.stringify(payload) });
  });

  it('fails on any other answer, naming the origin but not the path (it may hold a token)', async () => {
    await expect(new WebhookAlertSender(`${base}/404?token=s3cret`, 2_000).send(payload)).rejects.toThrow(`${base} answered 404`);
    await expect(new WebhookAlertSender(`${base}/500/s3cret`, 2_000).send(payload)).rejects.toThrow(/^(?!.*s3cret).*answered 500$/);
  });

  it('fails when nothing answers within the timeout, or nothing listens', async () => {
    await expect(new WebhookAlertSender(`${base}/silent`, 200).send(payload)).rejects.toThrow(`${base}: no answer within 200 ms`);
    const closed = `http://127.0.0.1:${await freePort()}`;
    await expect(new WebhookAlertSender(`${closed}/x`, 2_000).send(payload)).rejects.toThrow(`${closed}: ECONNREFUSED`);
  });
});
