import { createHmac } from 'node:crypto';
import { signatureHeader } from './callback-signature';

describe(signatureHeader.name, () => {
  const at = new Date('2026-12-04T12:00:00.900Z');
  const body = '{"id":"t1","status":"completed"}';
  const hmac = (secret: string): string => createHmac('sha256', secret).update(`1796385600.${body}`).digest('hex');

  it('signs the timestamp (unix seconds) and the body with the current secret', () => {
    expect(signatureHeader({ current: 'whsec_a', previous: null }, body, at)).toBe(`t=1796385600,v1=${hmac('whsec_a')}`);
  });

  it('adds the previous secret as a second v1 during a rotation', () => {
    expect(signatureHeader({ current: 'whsec_b', previous: 'whsec_a' }, body, at)).toBe(`t=1796385600,v1=${hmac('whsec_b')},v1=${hmac('whsec_a')}`);
  });
});
