import { createHash } from 'node:crypto';
import SftpClient from 'ssh2-sftp-client';
import { PollFailure } from '../../src/connectors/connector.js';
import type { SftpConfig, SftpSecrets } from './config.js';

/** The fingerprint ssh-keygen -lf prints for a host key blob. */
export function fingerprintOf(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/**
 * Opens an SFTP session with the instance's credentials. The server's host key must match a pinned
 * fingerprint, checked before authentication: a mismatch is refused and reported at once
 * (PollFailure kind host-key-mismatch, immediate), never retried into a CONNECTOR_DOWN later.
 */
export async function openSession(cfg: SftpConfig, secrets: SftpSecrets, signal?: AbortSignal): Promise<SftpClient> {
  // The library's default callbacks for an unexpected error/end/close print to stdout, outside the
  // hub's JSON logs; the running operation reports the problem itself (see ingestFile for reads).
  const quiet = () => undefined;
  const client = new SftpClient(`hub-sftp`, { error: quiet, end: quiet, close: quiet });
  // ssh2 emits 'error' on the client after connect (e.g. the connection drops mid-transfer); the
  // running operation rejects with it, so the event only needs a listener to not crash the process.
  client.on('error', () => undefined);
  let presented: string | undefined;
  const onAbort = () => void client.end().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await client.connect({
      host: cfg.host,
      port: cfg.port,
      username: cfg.username,
      password: secrets.password,
      privateKey: secrets.privateKey,
      passphrase: secrets.passphrase,
      readyTimeout: cfg.connectTimeoutSeconds * 1000,
      retries: 0,
      // A server or network that goes silent (no FIN, no RST) ends the session after ~1 min instead
      // of leaving a read waiting forever.
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      hostVerifier: (key: Buffer) => {
        presented = fingerprintOf(key);
        return cfg.hostKeySha256.includes(presented);
      },
    });
  } catch (e) {
    signal?.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
    if (presented && !cfg.hostKeySha256.includes(presented)) {
      throw new PollFailure(
        `host key mismatch for ${cfg.host}:${cfg.port}: the server presented ${presented}, pinned ${cfg.hostKeySha256.join(' or ')}; connection refused (update hostKeySha256 only if the server's key really changed)`,
        'host-key-mismatch',
        true,
      );
    }
    throw classify(e, `connect to ${cfg.username}@${cfg.host}:${cfg.port}`);
  }
  signal?.removeEventListener('abort', onAbort);
  return client;
}

/** A transport or server error as a PollFailure with a kind the status page and exceptions show. */
export function classify(e: unknown, doing: string): PollFailure {
  if (e instanceof PollFailure) return e;
  const err = e as Error & { code?: string | number };
  const msg = String(err?.message ?? e);
  const kind =
    /authentication methods failed|auth/i.test(msg) ? 'auth'
    : /ECONNREFUSED|EHOSTUNREACH|ENOTFOUND|ETIMEDOUT|Timed out while waiting for handshake/i.test(msg) ? 'unreachable'
    : /permission denied/i.test(msg) || err?.code === 3 ? 'permission'
    : /no space|quota|disk full|failure/i.test(msg) || err?.code === 4 ? 'server-failure'
    : /ECONNRESET|Not connected|No SFTP connection|closed|end/i.test(msg) ? 'connection-lost'
    : 'error';
  return new PollFailure(`${doing}: ${msg.replace(/^[a-zA-Z]+: /, '')}`.slice(0, 500), kind);
}
