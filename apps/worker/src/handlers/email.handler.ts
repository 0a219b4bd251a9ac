import { Inject, type OnModuleDestroy } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import { WorkerConfig } from '@taskq/config';
import { PermanentTaskError, type EmailPayload, type EmailResult } from '@taskq/contracts';
import { HandlesTask, type TaskContext, type TaskHandler } from './task-handler';

/** Sends the message over SMTP (`SMTP_URL`). 5xx SMTP answers are permanent; the rest retry. */
@HandlesTask('email')
export class EmailHandler implements TaskHandler<'email'>, OnModuleDestroy {
  private readonly transport: Transporter;

  constructor(@Inject(WorkerConfig) private readonly config: WorkerConfig) {
    this.transport = createTransport(config.smtpUrl);
  }

  async handle(payload: EmailPayload, context: TaskContext): Promise<EmailResult> {
    try {
      const info = await this.transport.sendMail({
        from: payload.from ?? this.config.smtpFrom,
        to: payload.to,
        replyTo: payload.replyTo,
        subject: payload.subject,
        text: payload.text,
        html: payload.html,
        // The same Message-ID on every attempt lets receivers drop duplicates.
        messageId: `<${context.taskId}@taskq>`,
        headers: { 'X-Taskq-Task-Id': context.taskId },
      });
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

  onModuleDestroy(): void {
    this.transport.close();
  }
}

const addressOf = (entry: string | { address: string }): string => (typeof entry === 'string' ? entry : entry.address);
