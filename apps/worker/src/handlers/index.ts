import { EmailHandler } from './email.handler';
import { NoopHandler } from './noop.handler';
import { ReportHandler } from './report.handler';
import { SleepHandler } from './sleep.handler';
import { WebhookHandler } from './webhook.handler';

/** Every handler the worker ships. Start-up fails unless each registered type has exactly one. */
export const TASK_HANDLERS = [EmailHandler, WebhookHandler, ReportHandler, NoopHandler, SleepHandler];
