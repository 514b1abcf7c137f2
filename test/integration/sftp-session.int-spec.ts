import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SftpConfig } from '../../connectors/sftp/config.js';
import { openSession } from '../../connectors/sftp/session.js';
import { PollFailure } from '../../src/connectors/connector.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

/** Sessions against a real OpenSSH sshd: pinned host keys, credentials, a stopped server. */
describe('SFTP sessions (real sshd)', () => {
  let sshd: TestSshd;
  const cfg = (over: Record<string, unknown> = {}) =>
    SftpConfig.parse({
      host: '127.0.0.1', port: sshd.port, username: sshd.username, hostKeySha256: sshd.hostKeySha256,
      inbox: '/inbox', archive: '/archive', error: '/error', format: 'jsonl', connectTimeoutSeconds: 5, ...over,
    });
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => sshd?.dispose());

  it('connects with the user key when the host key matches, and lists the chrooted inbox', async () => {
    writeFileSync(path.join(sshd.root, 'inbox', 'a.jsonl'), '{"x":1}\n');
    const s = await openSession(cfg(), { privateKey: sshd.userPrivateKey });
    expect((await s.list('/inbox')).map((f) => f.name)).toEqual(['a.jsonl']);
    await s.end();
  });

  it('refuses a server whose host key does not match the pinned fingerprint, naming both', async () => {
    const pinned = 'SHA256:' + 'A'.repeat(43);
    const err = await openSession(cfg({ hostKeySha256: pinned }), { privateKey: sshd.userPrivateKey }).catch((e) => e);
    expect(err).toBeInstanceOf(PollFailure);
    expect(err).toMatchObject({ kind: 'host-key-mismatch', immediate: true });
    expect(err.message).toContain(sshd.hostKeySha256);
    expect(err.message).toContain(pinned);
  });

  it('reports a wrong password as an authentication failure', async () => {
    const err = await openSession(cfg(), { password: 'not-the-password' }).catch((e) => e);
    expect(err).toMatchObject({ kind: 'auth' });
    expect(err.message).toMatch(/authentication/i);
  });

  it('reports a stopped server as unreachable, and connects again once it is back', async () => {
    await sshd.stop();
    const err = await openSession(cfg(), { privateKey: sshd.userPrivateKey }).catch((e) => e);
    expect(err).toMatchObject({ kind: 'unreachable' });
    await sshd.start();
    const s = await openSession(cfg(), { privateKey: sshd.userPrivateKey });
    await s.end();
  });
});
