import { Inject, type OnApplicationShutdown } from '@nestjs/common';
import { Agent, request } from 'undici';
import { WorkerConfig } from '@taskq/config';
import { PermanentTaskError, type WebhookPayload, type WebhookResult } from '@taskq/contracts';
import { clientSpan, markSpanError, outgoingTraceHeaders } from '@taskq/observability';
import { assertPublicHost, forbiddenAddressIn, publicOnlyLookup } from '@taskq/tasks';
import { HandlesTask, type TaskContext, type TaskHandler } from './task-handler';

const DEFAULT_TIMEOUT_MS = 10_000;
const EXCERPT_BYTES = 2_048;
/** 4xx answers that mean "later", not "never". */
const RETRYABLE_CLIENT_ERRORS = new Set([408, 425, 429]);

/**
 * One HTTP request. 2xx completes; 5xx, 408/425/429, network errors and time-outs fail the
 * attempt (retried); other answers (3xx — redirects are not followed — and 4xx) are permanent.
 */
@HandlesTask('webhook')
export class WebhookHandler implements TaskHandler<'webhook'>, OnApplicationShutdown {
  private readonly agent: Agent;

  constructor(@Inject(WorkerConfig) private readonly config: WorkerConfig) {
    this.agent = new Agent(config.webhookAllowPrivate ? {} : { connect: { lookup: publicOnlyLookup } });
  }

  async handle(payload: WebhookPayload, context: TaskContext): Promise<WebhookResult> {
    const url = new URL(payload.url);
    const method = payload.method ?? 'POST';
    const timeoutMs = payload.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const sendsBody = method !== 'GET' && payload.body !== undefined;
    const started = Date.now();
    try {
      if (!this.config.webhookAllowPrivate) assertPublicHost(url.hostname);
      const attributes = () => ({ 'http.request.method': method, 'url.full': `${url.origin}${url.pathname}`, 'server.address': url.hostname });
      const response = await clientSpan(method, attributes, async (span) => {
        const answer = await request(url, {
          method,
          dispatcher: this.agent,
          signal: AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]),
          headers: {
            'user-agent': 'taskq-webhook/1',
            'x-taskq-task-id': context.taskId,
            'idempotency-key': context.taskId,
            ...(sendsBody ? { 'content-type': 'application/json' } : {}),
            ...payload.headers,
            ...outgoingTraceHeaders(),
          },
          body: sendsBody ? JSON.stringify(payload.body) : undefined,
        });
        if (span) {
          span.setAttribute('http.response.status_code', answer.statusCode);
          if (answer.statusCode >= 400) markSpanError(span, String(answer.statusCode));
        }
        return answer;
      });
      const bodyExcerpt = await readExcerpt(response.body);
      const result = { status: response.statusCode, bodyExcerpt, durationMs: Date.now() - started };
      if (response.statusCode >= 200 && response.statusCode < 300) return result;
      const summary = `${method} ${url.origin}${url.pathname} answered ${response.statusCode}: ${bodyExcerpt.slice(0, 200)}`;
      if (response.statusCode >= 500 || RETRYABLE_CLIENT_ERRORS.has(response.statusCode)) throw new Error(summary);
      throw new PermanentTaskError(summary);
    } catch (error) {
      if (forbiddenAddressIn(error)) {
        throw new PermanentTaskError(`refused: ${(error as Error).message} (set WEBHOOK_ALLOW_PRIVATE=true to allow private targets)`);
      }
      if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError') && !context.signal.aborted) {
        throw new Error(`${method} ${url.origin}${url.pathname} did not answer within ${timeoutMs} ms`);
      }
      throw error;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent.close();
  }
}

async function readExcerpt(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= EXCERPT_BYTES) break;
  }
  body.destroy();
  return Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
}
