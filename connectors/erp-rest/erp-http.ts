import type { IBackoff, IBackoffFactory, IRetryBackoffContext } from 'cockatiel';
import type { XMLParser } from 'fast-xml-parser';
import type { Logger } from 'pino';
import type { ResolvedInstance } from '../../src/connectors/connector.js';
import type { ErpConfig, ErpSecrets } from './erp-config.js';
import { BudgetExhausted, type RequestBudget } from './request-budget.js';

export type ErpInstance = ResolvedInstance<ErpConfig, ErpSecrets>;

/** An ERP answer that was not a success; `retryable` says whether the same request may succeed later. */
export class ErpHttpError extends Error {
  /**
   * Requests sent for this call (ErpHttp.call retries timeouts, dropped connections and 5xx): above 1,
   * an earlier request may have been applied with its answer lost, so this answer may be to our own change.
   */
  tries = 1;

  constructor(
    readonly status: number,
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

/** A setting or secret the instance lacks for what it was asked to do; not retryable. */
export class ErpSetupError extends Error {}

export interface ErpRequest {
  method?: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  /** Relative to baseUrl, or an absolute path/URL the ERP gave (nextLink). */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ErpResponse {
  status: number;
  body: unknown;
}

// Entity expansion off: an ERP answer cannot make the parser expand DTD entities (billion laughs).
// Only the five predefined XML escapes (and numeric references) are decoded, by hand, one pass.
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescape = (_: string, v: unknown) =>
  typeof v === 'string' ? v.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_m, e: string) => PREDEFINED[e] ?? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1)))) : v;
// Loaded on first use: every hub process loads the connector catalog at start, few ever read ERP XML.
let xml: XMLParser | undefined;

export async function parseXml(text: string): Promise<unknown> {
  if (!xml) {
    const { XMLParser } = await import('fast-xml-parser');
    xml = new XMLParser({
      processEntities: false, htmlEntities: false, ignoreAttributes: false, attributeNamePrefix: '@_', removeNSPrefix: true, parseTagValue: false,
      tagValueProcessor: unescape, attributeValueProcessor: unescape, isArray: (name) => ['entry', 'record'].includes(name),
    });
  }
  return xml.parse(text);
}

/** Retry-After as seconds or an HTTP date, in ms; capped so one answer cannot park a poller for hours. */
export function retryAfterMs(h: string | null, capMs = 120_000): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  const ms = Number.isFinite(s) ? s * 1000 : Date.parse(h) - Date.now();
  return Number.isFinite(ms) ? Math.min(capMs, Math.max(0, ms)) : undefined;
}

/** Exponential backoff with jitter, except when the ERP said how long to wait (Retry-After). */
class ErpBackoff implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  constructor(private readonly initial: number, private readonly max: number) {}
  next(ctx: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const err = 'error' in ctx.result ? ctx.result.error : undefined;
    const told = err instanceof ErpHttpError ? err.retryAfterMs : undefined;
    const exp = Math.min(this.max, this.initial * 2 ** (ctx.attempt - 1));
    return { duration: told ?? Math.round(exp * (0.5 + Math.random() * 0.5)), next: (c) => this.next(c) };
  }
}

/**
 * fetch's network failures (refused, reset, the connection dropped before the answer) are TypeErrors of
 * the realm fetch lives in, which is not the caller's under a VM (jest's ESM runner): test the name.
 */
export const isNetworkError = (e: unknown) => (e as Error | undefined)?.name === 'TypeError';
const isRetryable = (e: Error) => (e instanceof ErpHttpError && e.retryable) || e instanceof BudgetExhausted || e.name === 'TimeoutError' || isNetworkError(e);

/**
 * HTTP to one kind of ERP: authentication (OAuth2 client credentials with a cached token,
 * basic, API key), OData v2 CSRF tokens for writes, the shared request budget, retries with
 * backoff (Retry-After honored), JSON or XML bodies. Logs method, path and status only:
 * never headers, bodies or secrets.
 */
export class ErpHttp {
  private tokens = new Map<string, { token: string; expiresAt: number }>();
  private csrf = new Map<string, { token: string; cookie?: string }>();

  constructor(
    private readonly budget: RequestBudget,
    private readonly log?: Logger,
  ) {}

  async call(inst: ErpInstance, req: ErpRequest): Promise<ErpResponse> {
    const c = inst.config;
    const { retry, handleWhen } = await import('cockatiel'); // cached by the module loader after the first call
    const policy = retry(handleWhen(isRetryable), { maxAttempts: c.retries.attempts, backoff: new ErpBackoff(c.retries.initialDelayMs, c.retries.maxDelayMs) });
    policy.onRetry((r) => this.log?.warn({ erp: inst.id, path: pathOnly(req.path), delayMs: r.delay, err: 'error' in r ? r.error.message : undefined }, 'ERP request retried'));
    let tries = 0;
    try {
      return await policy.execute(() => {
        tries++;
        return this.once(inst, req);
      }, req.signal);
    } catch (e) {
      if (e instanceof ErpHttpError) e.tries = tries;
      throw e;
    }
  }

  /** One attempt, with one token refresh on 401 and one CSRF refetch on 403 "Required". */
  private async once(inst: ErpInstance, req: ErpRequest): Promise<ErpResponse> {
    let res = await this.send(inst, req);
    if (res.status === 401 && inst.config.auth.kind === 'oauth2-client-credentials') {
      this.tokens.delete(inst.id);
      res = await this.send(inst, req);
    } else if (res.status === 403 && res.headers.get('x-csrf-token')?.toLowerCase() === 'required') {
      this.csrf.delete(inst.id);
      res = await this.send(inst, req);
    }
    return this.read(inst, req, res);
  }

  private async send(inst: ErpInstance, req: ErpRequest): Promise<Response> {
    const c = inst.config;
    const method = req.method ?? 'GET';
    const headers: Record<string, string> = {
      accept: c.format === 'xml' && c.style !== 'odata-v4' ? 'application/xml' : 'application/json',
      ...(await this.authHeaders(inst, req.signal)),
      ...req.headers,
    };
    if (method !== 'GET' && c.style === 'odata-v2') {
      const t = await this.csrfToken(inst, req.signal);
      headers['x-csrf-token'] = t.token;
      if (t.cookie) headers.cookie = t.cookie;
    }
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    return this.limited(inst, method, this.url(inst, req), { method, headers, body: req.body === undefined ? undefined : JSON.stringify(req.body), signal: req.signal });
  }

  /** Every request to the ERP (token and CSRF fetches too) goes through the shared budget. */
  private async limited(inst: ErpInstance, method: string, url: string, init: RequestInit): Promise<Response> {
    const c = inst.config;
    const lease = await this.budget.acquire(inst.id, c.budget, init.signal ?? undefined);
    const t0 = performance.now();
    try {
      const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(c.timeoutMs)]) : AbortSignal.timeout(c.timeoutMs);
      const res = await fetch(url, { ...init, signal });
      // Read the body while the slot is held, so concurrency means what the ERP sees.
      const text = await res.text();
      this.log?.debug({ erp: inst.id, method, path: pathOnly(url), status: res.status, ms: Math.round(performance.now() - t0) }, 'ERP request');
      return new Response(text.length ? text : null, { status: res.status, headers: res.headers });
    } finally {
      await lease.release();
    }
  }

  private async read(inst: ErpInstance, req: ErpRequest, res: Response): Promise<ErpResponse> {
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    let body: unknown = text;
    try {
      body = !text ? null : type.includes('xml') ? await parseXml(text) : JSON.parse(text);
    } catch (e) {
      if (res.ok) throw new ErpHttpError(res.status, `ERP ${inst.id} answered ${pathOnly(req.path)} with unreadable ${type || 'content'}: ${(e as Error).message}`, false);
    }
    if (res.ok) return { status: res.status, body };
    const retryable = res.status === 429 || res.status === 408 || res.status >= 500;
    throw new ErpHttpError(res.status, `ERP ${inst.id} answered ${req.method ?? 'GET'} ${pathOnly(req.path)} with ${res.status}: ${errorText(body)}`, retryable, retryAfterMs(res.headers.get('retry-after')), body);
  }

  private url(inst: ErpInstance, req: ErpRequest): string {
    const base = inst.config.baseUrl.replace(/\/$/, '');
    // Absolute URLs and root paths come from the ERP itself (nextLink, __next); the rest is relative to baseUrl.
    const u = /^https?:/.test(req.path) ? new URL(req.path) : req.path.startsWith('/') ? new URL(req.path, base) : new URL(`${base}/${req.path}`);
    for (const [k, v] of Object.entries(req.query ?? {})) u.searchParams.set(k, v);
    // OData wants %20 rather than + for spaces in $filter.
    return u.toString().replace(/\+/g, '%20');
  }

  private async authHeaders(inst: ErpInstance, signal?: AbortSignal): Promise<Record<string, string>> {
    const a = inst.config.auth;
    const s = inst.secrets;
    if (a.kind === 'basic') {
      if (!s.username || !s.password) throw new ErpSetupError(`connector ${inst.id}: basic auth needs secrets.username and secrets.password`);
      return { authorization: `Basic ${Buffer.from(`${s.username}:${s.password}`).toString('base64')}` };
    }
    if (a.kind === 'api-key') {
      if (!s.apiKey) throw new ErpSetupError(`connector ${inst.id}: api-key auth needs secrets.apiKey`);
      return { [a.header]: s.apiKey };
    }
    if (a.kind === 'oauth2-client-credentials') return { authorization: `Bearer ${await this.accessToken(inst, signal)}` };
    return {};
  }

  /** Client-credentials token, cached until shortly before it expires. */
  private async accessToken(inst: ErpInstance, signal?: AbortSignal): Promise<string> {
    const hit = this.tokens.get(inst.id);
    if (hit && hit.expiresAt > Date.now()) return hit.token;
    const a = inst.config.auth as { tokenUrl: string; scope?: string };
    const s = inst.secrets;
    if (!s.clientId || !s.clientSecret) throw new ErpSetupError(`connector ${inst.id}: OAuth2 needs secrets.clientId and secrets.clientSecret`);
    const form = new URLSearchParams({ grant_type: 'client_credentials', ...(a.scope ? { scope: a.scope } : {}) });
    const res = await this.limited(inst, 'POST', a.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: `Basic ${Buffer.from(`${encodeURIComponent(s.clientId)}:${encodeURIComponent(s.clientSecret)}`).toString('base64')}` },
      body: form.toString(),
      signal,
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string };
    if (!res.ok || !body.access_token) {
      throw new ErpHttpError(res.status, `ERP ${inst.id}: token endpoint refused the client credentials (${res.status} ${body.error ?? ''})`.trim(), res.status >= 500 || res.status === 429, retryAfterMs(res.headers.get('retry-after')));
    }
    const lifetimeMs = (body.expires_in ?? 300) * 1000;
    this.tokens.set(inst.id, { token: body.access_token, expiresAt: Date.now() + Math.max(1000, lifetimeMs - Math.min(60_000, lifetimeMs / 10)) });
    return body.access_token;
  }

  /** SAP Gateway: a GET with `x-csrf-token: fetch` returns the token (and session cookie) writes must carry. */
  private async csrfToken(inst: ErpInstance, signal?: AbortSignal): Promise<{ token: string; cookie?: string }> {
    const hit = this.csrf.get(inst.id);
    if (hit) return hit;
    const url = inst.config.baseUrl.replace(/\/$/, '') + '/';
    const res = await this.limited(inst, 'GET', url, { method: 'GET', headers: { ...(await this.authHeaders(inst, signal)), 'x-csrf-token': 'fetch', accept: 'application/json' }, signal });
    const token = res.headers.get('x-csrf-token');
    if (!token || token.toLowerCase() === 'required') throw new ErpHttpError(res.status, `ERP ${inst.id} gave no CSRF token (${res.status})`, res.status >= 500);
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') || undefined;
    const t = { token, cookie };
    this.csrf.set(inst.id, t);
    return t;
  }
}

function pathOnly(p: string): string {
  return p.replace(/^https?:\/\/[^/]+/, '').split('?')[0];
}

function errorText(body: unknown): string {
  const b = body as { error?: { message?: unknown } | string } | null;
  const m = typeof b?.error === 'object' ? b.error?.message : b?.error;
  const s = typeof m === 'object' && m ? (m as { value?: string }).value : m;
  return String(s ?? (typeof body === 'string' ? body : JSON.stringify(body))).slice(0, 300);
}
