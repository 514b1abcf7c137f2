import { lookup as dnsLookup } from 'node:dns';
import { Agent, request } from 'undici';
import { sign, signingKey } from '../../connectors/wms-webhook/standard-webhooks.js';
import type { EndpointGuard } from './endpoint-guard.js';

export interface SendResult {
  statusCode: number | null;
  latencyMs: number;
  excerpt: string | null;
  error: string | null;
  /** Delay the receiver asked for (Retry-After on 429/503), in ms. */
  retryAfterMs: number | null;
  /** The URL was refused by the address check: no connection was made. */
  refused: boolean;
}

/**
 * Sends one Standard Webhooks request: `webhook-id` (the delivery id, stable across retries),
 * `webhook-timestamp`, and one `v1,` signature per valid secret (two during a rotation overlap).
 */
export class WebhookSender {
  private readonly agent: Agent;

  constructor(
    private readonly guard: EndpointGuard,
    private readonly timeoutMs: number,
  ) {
    // The connection resolves the host through the guard as well: the address connected to is one
    // that was checked, whatever the DNS answers between the check and the connect (rebinding).
    this.agent = new Agent({
      connections: 64,
      keepAliveTimeout: 10_000,
      connect: {
        timeout: timeoutMs,
        lookup: (hostname: string, options: { all?: boolean }, cb: (...a: any[]) => void) => {
          dnsLookup(hostname, { all: true, verbatim: true }, (err, addrs) => {
            if (err) return cb(err);
            const refusal = addrs.map((a) => guard.refusal(a.address, a.family === 6 ? 6 : 4)).find(Boolean);
            if (refusal) return cb(Object.assign(new Error(`address refused: ${hostname} ${refusal}`), { code: 'EADDRREFUSED' }));
            return options?.all ? cb(null, addrs) : cb(null, addrs[0].address, addrs[0].family);
          });
        },
      } as any,
    });
  }

  async send(url: string, deliveryId: string, secrets: string[], body: Buffer): Promise<SendResult> {
    const started = performance.now();
    const check = await this.guard.check(url);
    if (!check.ok) return { statusCode: null, latencyMs: 0, excerpt: null, error: `address refused: ${check.reason}`, retryAfterMs: null, refused: true };
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = secrets.map((s) => `v1,${sign(signingKey(s), deliveryId, ts, body)}`).join(' ');
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { 'content-type': 'application/json', 'user-agent': 'exception-hub/1', 'webhook-id': deliveryId, 'webhook-timestamp': ts, 'webhook-signature': signature },
        body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const excerpt = await readExcerpt(res.body, 512);
      const ra = res.headers['retry-after'];
      return {
        statusCode: res.statusCode,
        latencyMs: Math.round(performance.now() - started),
        excerpt,
        error: null,
        retryAfterMs: res.statusCode === 429 || res.statusCode === 503 ? parseRetryAfter(Array.isArray(ra) ? ra[0] : ra) : null,
        refused: false,
      };
    } catch (e) {
      const err = e as Error & { code?: string };
      const refused = err.code === 'EADDRREFUSED' || /address refused/.test(err.message);
      const what = err.name === 'TimeoutError' || /timeout/i.test(err.code ?? err.message) ? `timed out after ${this.timeoutMs} ms` : `${err.code ?? err.name}: ${err.message}`;
      return { statusCode: null, latencyMs: Math.round(performance.now() - started), excerpt: null, error: what.slice(0, 500), retryAfterMs: null, refused };
    }
  }

  close() {
    return this.agent.close();
  }
}

async function readExcerpt(body: AsyncIterable<Buffer> & { destroy?: () => void }, max: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    if (n < max) chunks.push(c);
    n += c.length;
  }
  return n ? Buffer.concat(chunks).subarray(0, max).toString('utf8') : null;
}

/** Retry-After as seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(v: string | undefined): number | null {
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - Date.now());
}
