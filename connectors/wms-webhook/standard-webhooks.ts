import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks (standardwebhooks.com) signature check: HMAC-SHA256 over
 * `${webhook-id}.${webhook-timestamp}.${body}`, base64, sent as `v1,<sig>` (several, space-separated,
 * during secret rotation). Tests check it against the reference `standardwebhooks` package.
 */
export function signingKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

export function sign(key: Buffer, id: string, timestamp: string, body: Buffer): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

export type VerifyFailure = 'missing-headers' | 'bad-timestamp' | 'stale' | 'mismatch';

export function verify(
  keys: Buffer[],
  headers: { id?: string; timestamp?: string; signature?: string },
  body: Buffer,
  nowMs: number,
  toleranceSeconds: number,
): { ok: true } | { ok: false; why: VerifyFailure; detail: string } {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) {
    const missing = [!id && 'webhook-id', !timestamp && 'webhook-timestamp', !signature && 'webhook-signature'].filter(Boolean);
    return { ok: false, why: 'missing-headers', detail: `missing header ${missing.join(', ')}` };
  }
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, why: 'bad-timestamp', detail: 'webhook-timestamp must be Unix seconds' };
  const skew = Math.abs(nowMs / 1000 - Number(timestamp));
  if (skew > toleranceSeconds) {
    return { ok: false, why: 'stale', detail: `webhook-timestamp is ${Math.round(skew)} s away from now (tolerance ${toleranceSeconds} s)` };
  }
  const presented = signature
    .split(' ')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  for (const key of keys) {
    const expected = Buffer.from(sign(key, id, timestamp, body), 'base64');
    if (presented.some((p) => p.length === expected.length && timingSafeEqual(p, expected))) return { ok: true };
  }
  return { ok: false, why: 'mismatch', detail: 'no webhook-signature matches the body with the configured secret' };
}
