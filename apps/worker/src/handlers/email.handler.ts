import { Inject, type OnApplicationShutdown } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import { WorkerConfig } from '@taskq/config';
import { PermanentTaskError, type EmailPayload, type EmailResult } from '@taskq/contracts';
import { clientSpan } from '@taskq/observability';
import { HandlesTask, type TaskContext, type TaskHandler } from './task-handler';

/** Sends the message over SMTP (`SMTP_URL`). 5xx SMTP answers are permanent; the rest retry. */
@HandlesTask('email')
export class EmailHandler implements TaskHandler<'email'>, OnApplicationShutdown {
  private readonly transport: Transporter;
  /** Named on the SMTP span. */
  private readonly smtpHost: string;

  constructor(@Inject(WorkerConfig) private readonly config: WorkerConfig) {
    // Below the email type's 30 s deadline: nodemailer cannot be aborted, so a stuck
    // connection must give up on its own before the attempt is retried.
    // (Query parameters of SMTP_URL are nodemailer options; explicit ones win.)
    const url = new URL(config.smtpUrl);
    for (const [option, ms] of Object.entries(SMTP_TIMEOUTS_MS)) if (!url.searchParams.has(option)) url.searchParams.set(option, String(ms));
    this.transport = createTransport(url.toString());
    this.smtpHost = url.hostname;
  }

  async handle(payload: EmailPayload, context: TaskContext): Promise<EmailResult> {
    context.signal.throwIfAborted();
    try {
      const info = await clientSpan('smtp send', () => ({ 'server.address': this.smtpHost }), () => this.transport.sendMail({
        from: payload.from ?? this.config.smtpFrom,
        to: payload.to,
        replyTo: payload.replyTo,
        subject: payload.subject,
        text: payload.text,
        html: payload.html,
        // The same Message-ID on every attempt lets receivers drop duplicates.
        messageId: `<${context.taskId}@taskq>`,
        headers: { 'X-Taskq-Task-Id': context.taskId },
      }));
      return {
        messageId: String(info.messageId),
        accepted: (info.accepted as Array<string | { address: string }>).map(addressOf),
        rejected: (info.rejected as Array<string | { address: string }>).map(addressOf),
      };
    } catch (error) {
      const responseCode = (error as { responseCode?: number }).responseCode;
      if (typeof responseCode === 'number' && responseCode >= 500) {
        throw new PermanentTaskError(`SMTP server refused the message (${responseCode}): ${(error as Error).message}`);
      }
      throw error;
    }
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}

const SMTP_TIMEOUTS_MS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

const addressOf = (entry: string | { address: string }): string => (typeof entry === 'string' ? entry : entry.address);
