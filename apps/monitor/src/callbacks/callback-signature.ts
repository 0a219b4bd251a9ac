import { createHmac } from 'node:crypto';
import type { SigningSecrets } from '@taskq/persistence';

/**
 * `Taskq-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, with a second
 * `v1` by the previous secret during a rotation's grace period, so receivers can switch
 * secrets at their own pace. The timestamp lets them refuse replays of old deliveries.
 */
export function signatureHeader(secrets: Pick<SigningSecrets, 'current' | 'previous'>, body: string, at: Date): string {
  const timestamp = Math.floor(at.getTime() / 1_000);
  const sign = (secret: string): string => createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return [`t=${timestamp}`, `v1=${sign(secrets.current)}`, ...(secrets.previous ? [`v1=${sign(secrets.previous)}`] : [])].join(',');
}
