import { Webhook } from 'standardwebhooks';
import { sign, signingKey, verify } from './standard-webhooks.js';

// The reference Standard Webhooks implementation is the independent oracle for our signatures.
describe('Standard Webhooks signatures', () => {
  const secret = 'whsec_' + Buffer.from('a test secret of enough length').toString('base64');
  const body = Buffer.from('{"type":"pick.shortfall","order":{"number":"SO-1"}}');
  const now = new Date('2026-11-27T10:00:00Z');
  const ts = String(Math.floor(now.getTime() / 1000));

  it('verifies what the reference library signs', () => {
    const sig = new Webhook(secret).sign('msg_1', now, body.toString());
    expect(verify([signingKey(secret)], { id: 'msg_1', timestamp: ts, signature: sig }, body, now.getTime(), 300)).toEqual({ ok: true });
  });

  it('signs what the reference library verifies', () => {
    // The library checks the timestamp against its own clock, so sign with the current time.
    const nowTs = String(Math.floor(Date.now() / 1000));
    const headers = { 'webhook-id': 'msg_2', 'webhook-timestamp': nowTs, 'webhook-signature': `v1,${sign(signingKey(secret), 'msg_2', nowTs, body)}` };
    expect(new Webhook(secret).verify(body.toString(), headers)).toEqual(JSON.parse(body.toString()));
    const tampered = { ...headers, 'webhook-signature': `v1,${sign(signingKey(secret), 'msg_2', nowTs, Buffer.from('{}'))}` };
    expect(() => new Webhook(secret).verify(body.toString(), tampered)).toThrow();
  });

  it('accepts either secret during rotation and any of several signatures', () => {
    const old = 'whsec_' + Buffer.from('the previous secret, rotating').toString('base64');
    const sigOld = sign(signingKey(old), 'msg_3', ts, body);
    const keys = [signingKey(secret), signingKey(old)];
    expect(verify(keys, { id: 'msg_3', timestamp: ts, signature: `v1,${sigOld}` }, body, now.getTime(), 300).ok).toBe(true);
    expect(verify([signingKey(secret)], { id: 'msg_3', timestamp: ts, signature: `v1,AAAA v1,${sign(signingKey(secret), 'msg_3', ts, body)}` }, body, now.getTime(), 300).ok).toBe(true);
    expect(verify([signingKey(secret)], { id: 'msg_3', timestamp: ts, signature: `v1,${sigOld}` }, body, now.getTime(), 300)).toMatchObject({ ok: false, why: 'mismatch' });
  });

  it('refuses tampered bodies, other ids, stale or malformed timestamps and missing headers', () => {
    const sig = `v1,${sign(signingKey(secret), 'msg_4', ts, body)}`;
    const k = [signingKey(secret)];
    expect(verify(k, { id: 'msg_4', timestamp: ts, signature: sig }, Buffer.from(body.toString() + ' '), now.getTime(), 300)).toMatchObject({ why: 'mismatch' });
    expect(verify(k, { id: 'msg_5', timestamp: ts, signature: sig }, body, now.getTime(), 300)).toMatchObject({ why: 'mismatch' });
    expect(verify(k, { id: 'msg_4', timestamp: ts, signature: sig }, body, now.getTime() + 301_000, 300)).toMatchObject({ why: 'stale' });
    expect(verify(k, { id: 'msg_4', timestamp: '2026-11-27T10:00:00Z', signature: sig }, body, now.getTime(), 300)).toMatchObject({ why: 'bad-timestamp' });
    expect(verify(k, { id: 'msg_4', timestamp: ts }, body, now.getTime(), 300)).toMatchObject({ why: 'missing-headers', detail: 'missing header webhook-signature' });
    expect(verify(k, { id: 'msg_4', timestamp: ts, signature: 'v2,' + sig.slice(3) }, body, now.getTime(), 300)).toMatchObject({ why: 'mismatch' });
  });
});
