import type { DeadTaskAlertPayload } from '@taskq/contracts';

/** Where a URL points, without its path and query (which may carry a token): for logs. */
export function describeWebhook(url: string): string {
  return new URL(url).origin;
}

/** POSTs one alert batch as JSON. Anything but a 2xx within the timeout is a failure. */
export class WebhookAlertSender {
  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  async send(payload: DeadTaskAlertPayload): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'taskq-monitor' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (cause ?? (error as Error).message);
      throw new Error(`${describeWebhook(this.url)}: ${reason}`);
    }
    // The body is not needed, but reading it releases the connection.
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new Error(`${describeWebhook(this.url)} answered ${response.status}`);
  }
}
