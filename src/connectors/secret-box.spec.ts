import { SecretBox } from './secret-box.js';

describe('SecretBox', () => {
  it('round-trips, never stores plaintext, and refuses another master key', () => {
    const box = new SecretBox('m'.repeat(32));
    const sealed = box.seal({ signingSecret: 'whsec_plaintext-value' });
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain('plaintext');
    expect(box.seal({ a: 1 })).not.toBe(box.seal({ a: 1 }));
    expect(box.open(sealed)).toEqual({ signingSecret: 'whsec_plaintext-value' });
    expect(() => new SecretBox('n'.repeat(32)).open(sealed)).toThrow(/HUB_MASTER_KEY differs/);
  });
});
