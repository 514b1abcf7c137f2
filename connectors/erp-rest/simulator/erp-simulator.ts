import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErpData, type ErpRecord, type Watermarkish } from './erp-data.js';
import { toXml } from './erp-xml.js';

export const SIMULATOR_DEFAULT_PORT = 4780;
export const V4_ROOT = '/odata/v4';
export const V2_ROOT = '/sap/opu/odata/sap/ZHUB_SRV';
export const REST_ROOT = '/api/v1';

export interface SimulatorCredentials {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
  apiKey: string;
  apiKeyHeader: string;
}

interface Fault {
  status: number;
  retryAfter?: string;
  /** Only requests whose path contains this. */
  match?: string;
}

/**
 * A local ERP for tests and the demo: OData v4 (Dynamics 365 style), OData v2 (SAP Gateway style:
 * d.results, __next, CSRF tokens) and a REST JSON/XML API with cursor paging, over one mutable data
 * set. It enforces auth (OAuth2 client credentials, basic, API key), can inject faults (429 with
 * Retry-After, 5xx bursts, a write applied whose answer is lost), expire tokens, and counts requests and peak concurrency.
 */
export class ErpSimulator {
  readonly data = new ErpData();
  readonly creds: SimulatorCredentials;
  tokenLifetimeS = 3600;
  /** Held before answering (to observe concurrency). */
  delayMs = 0;
  readonly faults: Fault[] = [];
  /** Writes applied whose answer is then lost (the connection drops): path parts to match, one per write. */
  readonly lostAnswers: string[] = [];
  readonly log: { method: string; path: string; status: number; at: number; headers: Record<string, string | string[] | undefined> }[] = [];
  inFlight = 0;
  peakInFlight = 0;
  tokensIssued = 0;
  private tokens = new Map<string, number>();
  private csrf = new Set<string>();
  private server?: Server;
  private timers = new Set<NodeJS.Timeout>();
  url = '';

  /** Credentials are random per simulator unless given (the standalone demo simulator uses fixed, documented ones). */
  constructor(creds: Partial<SimulatorCredentials> = {}) {
    this.creds = {
      clientId: 'hub-client',
      clientSecret: 'sim-client-secret-' + randomBytes(6).toString('hex'),
      username: 'HUB_USER',
      password: 'sim-password-' + randomBytes(6).toString('hex'),
      apiKey: 'sim-api-key-' + randomBytes(8).toString('hex'),
      apiKeyHeader: 'x-api-key',
      ...creds,
    };
  }

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  private hold(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => (this.timers.delete(t), resolve()), ms);
      this.timers.add(t);
    });
  }

  async stop(): Promise<void> {
    // Requests held by delayMs are dropped with their connections, not answered after the stop.
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Queues faults answered to the next matching requests (e.g. three 503s, a 429 with Retry-After: 1). */
  failNext(count: number, status: number, o: { retryAfter?: string; match?: string } = {}) {
    for (let i = 0; i < count; i++) this.faults.push({ status, ...o });
  }
  /** The next `count` writes whose path contains `match` are applied, then the connection drops before the answer. */
  loseAnswerNext(count: number, match = '') {
    for (let i = 0; i < count; i++) this.lostAnswers.push(match);
  }
  expireTokens() {
    this.tokens.clear();
  }
  invalidateCsrf() {
    this.csrf.clear();
  }
  requests(pathPart = ''): number {
    return this.log.filter((l) => l.path.includes(pathPart)).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    const u = new URL(req.url ?? '/', 'http://sim');
    const body = await readBody(req);
    let status = 500;
    try {
      if (this.delayMs) await this.hold(this.delayMs);
      status = this.route(req, u, body, res);
    } catch (e) {
      status = send(res, 500, { error: { code: 'SIM', message: (e as Error).message } });
    } finally {
      this.inFlight--;
      this.log.push({ method: req.method ?? 'GET', path: u.pathname + u.search, status, at: Date.now(), headers: req.headers });
    }
  }

  private route(req: IncomingMessage, u: URL, body: string, res: ServerResponse): number {
    if (u.pathname === '/oauth/token' && req.method === 'POST') return this.token(req, body, res);
    const fault = this.faults.findIndex((f) => !f.match || u.pathname.includes(f.match));
    if (fault >= 0) {
      const f = this.faults.splice(fault, 1)[0];
      if (f.retryAfter) res.setHeader('retry-after', f.retryAfter);
      return send(res, f.status, { error: { code: String(f.status), message: 'simulated fault' } });
    }
    if (!this.authorized(req)) {
      res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
      return send(res, 401, { error: { code: '401', message: 'not authorized' } });
    }
    const xml = String(req.headers.accept ?? '').includes('xml');
    const idem = (req.headers['idempotency-key'] ?? req.headers['repeatability-request-id']) as string | undefined;
    if (u.pathname.startsWith(V4_ROOT + '/')) return this.odata(req, u, body, res, 'v4', u.pathname.slice(V4_ROOT.length + 1), idem);
    if (u.pathname.startsWith(V2_ROOT + '/')) {
      if (req.method !== 'GET') {
        const token = req.headers['x-csrf-token'];
        if (typeof token !== 'string' || !this.csrf.has(token)) {
          res.setHeader('x-csrf-token', 'Required');
          return send(res, 403, { error: { code: '403', message: { lang: 'en', value: 'CSRF token validation failed' } } });
        }
      } else if (String(req.headers['x-csrf-token'] ?? '').toLowerCase() === 'fetch') {
        const token = randomBytes(12).toString('base64url');
        this.csrf.add(token);
        res.setHeader('x-csrf-token', token);
      }
      return this.odata(req, u, body, res, 'v2', u.pathname.slice(V2_ROOT.length + 1), idem, xml);
    }
    if (u.pathname.startsWith(REST_ROOT + '/')) return this.rest(req, u, body, res, u.pathname.slice(REST_ROOT.length + 1), idem, xml);
    return send(res, 404, { error: { code: '404', message: `no resource ${u.pathname}` } });
  }

  private token(req: IncomingMessage, body: string, res: ServerResponse): number {
    const form = new URLSearchParams(body);
    let id = form.get('client_id');
    let secret = form.get('client_secret');
    const basic = String(req.headers.authorization ?? '');
    if (basic.startsWith('Basic ')) [id, secret] = Buffer.from(basic.slice(6), 'base64').toString().split(':');
    if (form.get('grant_type') !== 'client_credentials') return send(res, 400, { error: 'unsupported_grant_type' });
    if (id !== this.creds.clientId || secret !== this.creds.clientSecret) return send(res, 401, { error: 'invalid_client' });
    const token = randomBytes(18).toString('base64url');
    this.tokens.set(token, Date.now() + this.tokenLifetimeS * 1000);
    this.tokensIssued++;
    return send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: this.tokenLifetimeS });
  }

  private authorized(req: IncomingMessage): boolean {
    const h = String(req.headers.authorization ?? '');
    if (h.startsWith('Bearer ')) return (this.tokens.get(h.slice(7)) ?? 0) > Date.now();
    if (h.startsWith('Basic ')) return Buffer.from(h.slice(6), 'base64').toString() === `${this.creds.username}:${this.creds.password}`;
    return req.headers[this.creds.apiKeyHeader] === this.creds.apiKey;
  }

  /** OData v4 and v2 over the same data: collections with delta filters, single entities, actions. */
  private odata(req: IncomingMessage, u: URL, body: string, res: ServerResponse, v: 'v4' | 'v2', rest: string, idem?: string, xml = false): number {
    const one = rest.match(/^(\w+)\('([^']*)'\)(?:\/(\w+))?$/);
    if (one) return this.entityCall(req, res, one[1], decodeURIComponent(one[2]), one[3], body, idem, (rec) => (v === 'v2' ? { d: v2Record(rec) } : { '@odata.context': `$metadata#${one[1]}/$entity`, ...rec }));
    const set = rest.match(/^(\w+)$/)?.[1];
    if (!set || req.method !== 'GET') return send(res, 404, { error: { code: '404', message: `no resource ${rest}` } });
    const top = Number(u.searchParams.get('$top') ?? (v === 'v4' ? 1000 : 100));
    const filter = u.searchParams.get('$filter');
    const orderby = u.searchParams.get('$orderby');
    let after: Watermarkish | undefined;
    const skip = u.searchParams.get('$skiptoken');
    if (skip) after = JSON.parse(Buffer.from(skip, 'base64url').toString());
    const page = this.data.query(set, { filter: filter ?? undefined, orderby: orderby ?? undefined, after, top, v2: v === 'v2' });
    if ('error' in page) return send(res, 400, { error: { code: '400', message: page.error } });
    const next = page.more ? nextLink(u, '$skiptoken', Buffer.from(JSON.stringify(page.last)).toString('base64url')) : undefined;
    if (v === 'v4') return send(res, 200, { '@odata.context': `$metadata#${set}`, value: page.records, ...(next ? { '@odata.nextLink': next } : {}) });
    if (xml) return sendXml(res, toXml({ feed: { entry: page.records.map((r) => ({ content: { properties: v2Record(r) } })), ...(next ? { link: { '@_rel': 'next', '@_href': next } } : {}) } }));
    return send(res, 200, { d: { results: page.records.map(v2Record), ...(next ? { __next: next } : {}) } });
  }

  private rest(req: IncomingMessage, u: URL, body: string, res: ServerResponse, rest: string, idem?: string, xml = false): number {
    const one = rest.match(/^([\w-]+)\/([^/]+)(?:\/([\w-]+))?$/);
    if (one) return this.entityCall(req, res, restSet(one[1]), decodeURIComponent(one[2]), one[3] && restAction(one[3]), body, idem, (rec) => rec, xml);
    if (req.method !== 'GET') return send(res, 404, { error: 'not found' });
    const set = restSet(rest);
    const limit = Number(u.searchParams.get('limit') ?? 100);
    const cursor = u.searchParams.get('cursor');
    let after: Watermarkish | undefined;
    if (cursor) after = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    else if (u.searchParams.get('since')) after = { modified: u.searchParams.get('since')!, key: u.searchParams.get('sinceKey') ?? '' };
    const filters = [...u.searchParams.entries()].filter(([k]) => !['limit', 'cursor', 'since', 'sinceKey'].includes(k));
    const page = this.data.query(set, { after, top: limit, equals: Object.fromEntries(filters), byModified: true });
    if ('error' in page) return send(res, 400, { error: page.error });
    const nextCursor = page.more ? Buffer.from(JSON.stringify(page.last)).toString('base64url') : null;
    if (xml) return sendXml(res, toXml({ response: { records: { record: page.records }, nextCursor: nextCursor ?? '' } }));
    return send(res, 200, { data: page.records, nextCursor });
  }

  /** GET one entity, or an action on it (InvoiceHold POST/DELETE, Notes POST) deduplicated by idempotency key. */
  private entityCall(req: IncomingMessage, res: ServerResponse, set: string, key: string, action: string | undefined, body: string, idem: string | undefined, shape: (r: ErpRecord) => unknown, xml = false): number {
    const rec = this.data.get(set, key);
    if (!rec) return send(res, 404, { error: { code: '404', message: `${set} ${key} not found` } });
    if (!action && req.method === 'GET') return xml ? sendXml(res, toXml({ record: rec })) : send(res, 200, shape(rec));
    if (idem) {
      const seen = this.data.idempotent.get(idem);
      if (seen) return send(res, seen.status, seen.body);
    }
    const out = this.data.act(set, key, action ?? '', req.method ?? 'GET', body ? JSON.parse(body) : {});
    if (idem && out.status < 500) this.data.idempotent.set(idem, out);
    const lost = this.lostAnswers.findIndex((m) => (req.url ?? '').includes(m));
    if (lost >= 0) {
      this.lostAnswers.splice(lost, 1);
      req.socket.destroy();
      return 0;
    }
    return send(res, out.status, out.body);
  }
}

function nextLink(u: URL, param: string, value: string): string {
  const n = new URL(u.toString().replace('http://sim', ''), 'http://sim');
  n.searchParams.set(param, value);
  return n.pathname + n.search;
}

function restSet(path: string): string {
  return { 'sales-orders': 'SalesOrders', customers: 'Customers', inventory: 'Inventory' }[path] ?? path;
}
function restAction(a: string): string {
  return { 'invoice-hold': 'InvoiceHold', 'fulfilment-hold': 'FulfilmentHold', notes: 'Notes' }[a] ?? a;
}

/** SAP Gateway v2 writes DateTime values as /Date(ms)/. */
function v2Record(r: ErpRecord): ErpRecord {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? `/Date(${Date.parse(v)})/` : v]));
}

function send(res: ServerResponse, status: number, body: unknown): number {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
  return status;
}
function sendXml(res: ServerResponse, xml: string): number {
  res.writeHead(200, { 'content-type': 'application/xml' });
  res.end(xml);
  return 200;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (d) => (s += d));
    req.on('end', () => resolve(s));
  });
}
