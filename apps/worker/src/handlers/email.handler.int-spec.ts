import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { WorkerConfig, loadConfig } from '@taskq/config';
import { PermanentTaskError, type EmailPayload } from '@taskq/contracts';
import { waitFor } from '@taskq/testing';
import { EmailHandler } from './email.handler';
import type { TaskContext } from './task-handler';

jest.setTimeout(20_000);

interface ReceivedMessage {
  mailFrom: string | false;
  rcptTo: string[];
  headers: Map<string, string>;
  body: string;
}

/** Splits a raw RFC 5322 message into unfolded headers (lower-case names) and a decoded text body. */
function parseMessage(raw: string): Pick<ReceivedMessage, 'headers' | 'body'> {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = raw.slice(split + 4);
  if (headers.get('content-transfer-encoding')?.toLowerCase() === 'quoted-printable') {
    body = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  return { headers, body: body.replace(/\r\n$/, '') };
}

// Recipients whose local part tells the server how to answer RCPT TO.
const REJECTIONS: Record<string, { code: number; text: string }> = {
  'nobody@example.test': { code: 550, text: 'mailbox unavailable' },
  'busy@example.test': { code: 451, text: 'try again later' },
};

function context(taskId: string): TaskContext {
  return {
    taskId,
    attempt: 1,
    maxAttempts: 5,
    signal: new AbortController().signal,
    progress: async () => undefined,
    logger: { log: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined },
  };
}

const payload = (fields: Partial<EmailPayload> & Pick<EmailPayload, 'to'>): EmailPayload => ({ subject: 'Hello', text: 'Body', ...fields });

describe(EmailHandler.name, () => {
  const received: ReceivedMessage[] = [];
  let server: SMTPServer;
  let sut: EmailHandler;
  let port: number;

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      disableReverseLookup: true,
      logger: false,
      closeTimeout: 100,
      onRcptTo(address: SMTPServerAddress, _session, callback) {
        const rejection = REJECTIONS[address.address];
        if (!rejection) return callback();
        callback(Object.assign(new Error(rejection.text), { responseCode: rejection.code }));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          received.push({
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : false,
            rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            ...parseMessage(Buffer.concat(chunks).toString('utf8')),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
    sut = new EmailHandler(loadConfig(WorkerConfig, { SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_FROM: 'taskq <noreply@taskq.test>' }));
  });

  afterAll(async () => {
    sut.onApplicationShutdown();
    await new Promise<void>((resolve) => server.close(resolve));
  });

  const messageFor = (taskId: string): Promise<ReceivedMessage> =>
    waitFor(() => received.find((message) => message.headers.get('x-taskq-task-id') === taskId), { description: `message of task ${taskId} arrives` });

  it('delivers the message with the task id header and a Message-ID derived from the task id', async () => {
    const taskId = randomUUID();

    const result = await sut.handle(payload({ to: ['alice@example.test'], subject: 'Your report is ready', text: 'Numbers inside.' }), context(taskId));

    expect(result).toEqual({ messageId: `<${taskId}@taskq>`, accepted: ['alice@example.test'], rejected: [] });
    const message = await messageFor(taskId);
    expect(message.rcptTo).toEqual(['alice@example.test']);
    expect(message.mailFrom).toBe('noreply@taskq.test');
    expect(message.headers.get('to')).toBe('alice@example.test');
    expect(message.headers.get('from')).toBe('taskq <noreply@taskq.test>');
    expect(message.headers.get('subject')).toBe('Your report is ready');
    expect(message.headers.get('message-id')).toBe(`<${taskId}@taskq>`);
    expect(message.headers.get('x-taskq-task-id')).toBe(taskId);
    expect(message.body).toBe('Numbers inside.');
  });

  it('uses the payload sender and reply-to when given, and sends to every recipient', async () => {
    const taskId = randomUUID();

    await sut.handle(
      payload({ to: ['a@example.test', 'b@example.test'], from: 'billing@example.test', replyTo: 'help@example.test', html: '<p>Hi</p>', text: undefined }),
      context(taskId),
    );

    const message = await messageFor(taskId);
    expect(message.rcptTo).toEqual(['a@example.test', 'b@example.test']);
    expect(message.mailFrom).toBe('billing@example.test');
    expect(message.headers.get('reply-to')).toBe('help@example.test');
    expect(message.headers.get('content-type')).toMatch(/^text\/html/);
    expect(message.body).toBe('<p>Hi</p>');
  });

  it('keeps the same Message-ID on a second attempt of the same task, so receivers can drop the duplicate', async () => {
    const taskId = randomUUID();

    await sut.handle(payload({ to: ['dup@example.test'] }), context(taskId));
    await sut.handle(payload({ to: ['dup@example.test'] }), { ...context(taskId), attempt: 2 });

    const copies = await waitFor(() => {
      const found = received.filter((message) => message.headers.get('x-taskq-task-id') === taskId);
      return found.length === 2 && found;
    });
    expect(copies.map((message) => message.headers.get('message-id'))).toEqual([`<${taskId}@taskq>`, `<${taskId}@taskq>`]);
  });

  it('completes when some recipients are refused, and reports them as rejected', async () => {
    const taskId = randomUUID();

    const result = await sut.handle(payload({ to: ['carol@example.test', 'nobody@example.test'] }), context(taskId));

    expect(result).toEqual({ messageId: `<${taskId}@taskq>`, accepted: ['carol@example.test'], rejected: ['nobody@example.test'] });
    expect((await messageFor(taskId)).rcptTo).toEqual(['carol@example.test']);
  });

  it('turns a 5xx refusal into a PermanentTaskError naming the code', async () => {
    const taskId = randomUUID();

    const attempt = sut.handle(payload({ to: ['nobody@example.test'] }), context(taskId));

    await expect(attempt).rejects.toBeInstanceOf(PermanentTaskError);
    await expect(attempt).rejects.toThrow(/refused the message \(550\)/);
    expect(received.some((message) => message.headers.get('x-taskq-task-id') === taskId)).toBe(false);
  });

  it('leaves a 4xx refusal retryable', async () => {
    const attempt = sut.handle(payload({ to: ['busy@example.test'] }), context(randomUUID()));

    await expect(attempt).rejects.toMatchObject({ responseCode: 451 });
    await expect(attempt).rejects.not.toBeInstanceOf(PermanentTaskError);
  });

  // An attempt already aborted (deadline or cancel) must not send.
  it('sends nothing once the attempt is aborted', async () => {
    const taskId = randomUUID();
    const controller = new AbortController();
    controller.abort(new Error('deadline passed'));

    const attempt = sut.handle(payload({ to: ['late@example.test'] }), { ...context(taskId), signal: controller.signal });

    await expect(attempt).rejects.toThrow();
    expect(received.some((message) => message.headers.get('x-taskq-task-id') === taskId)).toBe(false);
  });

  it('leaves an unreachable server retryable', async () => {
    const closed = new SMTPServer({ logger: false, disabledCommands: ['STARTTLS'] });
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(resolve));
    const unreachable = new EmailHandler(loadConfig(WorkerConfig, { SMTP_URL: `smtp://127.0.0.1:${deadPort}` }));

    try {
      const attempt = unreachable.handle(payload({ to: ['alice@example.test'] }), context(randomUUID()));

      await expect(attempt).rejects.toMatchObject({ code: 'ESOCKET' });
      await expect(attempt).rejects.not.toBeInstanceOf(PermanentTaskError);
    } finally {
      unreachable.onApplicationShutdown();
    }
  });
});
