import { Redis } from 'ioredis';
import { PayloadError, type Acceptance, type Connector, type ConnectorRuntime, type InboundRequest, type ParsedDocument, type PollContext, type PollOutcome, type PollSettings, type ResolvedInstance } from '../../src/connectors/connector.js';
import { jsonProblem } from '../../src/connectors/json-problem.js';
import { redisConnection } from '../../src/queues/redis-connection.js';
import { ErpConfig, ErpSecrets } from './erp-config.js';
import { ErpHttp } from './erp-http.js';
import { pollErp } from './erp-poll.js';
import { erpActions, erpLookups } from './erp-operations.js';
import { LocalRequestBudget, RedisRequestBudget } from './request-budget.js';

const ENTITY = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * ERP over OData v4, OData v2 (SAP Gateway) or REST: delta reads of changed records (erp-poll.ts),
 * enrichment lookups, and order actions (invoice holds, pausing/resuming fulfilment, notes, alternate stock). Records also come
 * in as messages: `{"entityType": "sales-order", "records": [...]}` (or an array of records that
 * each carry `entityType`) posted to POST /v1/connectors/{id}/messages.
 */
export class ErpRestConnector implements Connector<ErpConfig, ErpSecrets> {
  readonly type = 'erp-rest';
  readonly description = 'ERP over OData v4 / OData v2 / REST: delta polling, enrichment lookups, invoice holds, fulfilment pause/resume and order notes';
  readonly configSchema = ErpConfig;
  readonly secretsSchema = ErpSecrets;
  private readonly runtimes: { rt?: ConnectorRuntime; http?: ErpHttp; redis?: Redis }[] = [];
  private fallback?: ErpHttp;
  readonly actions = erpActions(() => this.http);
  readonly lookups = erpLookups(() => this.http);

  /** `http` given: tests and scripts bring their own client (and budget). */
  constructor(http?: ErpHttp) {
    if (http) this.runtimes.push({ http });
  }

  /** The hub's Redis carries the request budget every process shares (connected on first use). */
  start(rt: ConnectorRuntime): void {
    this.runtimes.push({ rt });
  }

  async stop(): Promise<void> {
    const r = this.runtimes.pop();
    r?.redis?.disconnect();
  }

  get http(): ErpHttp {
    const r = this.runtimes[this.runtimes.length - 1];
    if (r?.http) return r.http;
    if (r?.rt) {
      // Created on first use: commands wait for the connection (offline queue), then fail fast on an outage.
      r.redis = new Redis({ ...redisConnection(r.rt.redisUrl, { worker: false }), enableOfflineQueue: true });
      r.redis.on('error', () => undefined); // surfaces as a failed request where it matters; ioredis reconnects
      r.http = new ErpHttp(new RedisRequestBudget(r.redis, r.rt.keyPrefix), r.rt.log.child({ connector: 'erp-rest' }));
      return r.http;
    }
    this.fallback ??= new ErpHttp(new LocalRequestBudget());
    return this.fallback;
  }

  pollSettings(instance: ResolvedInstance<ErpConfig, ErpSecrets>): PollSettings {
    const p = instance.config.poll;
    return { intervalMs: p.intervalMs, downAfterFailures: p.downAfterFailures };
  }

  /**
   * One delta read of every feed (erp-poll.ts): each changed record becomes one message keyed by
   * `entityType:key:modified`, so a poll that crashed before saving its watermark re-reads a page
   * whose messages are then duplicates; the watermark is saved per page in the instance's state.
   */
  async poll(instance: ResolvedInstance<ErpConfig, ErpSecrets>, ctx: PollContext): Promise<PollOutcome> {
    if (!instance.config.poll.enabled || instance.config.feeds.length === 0) return { ingested: 0 };
    let ingested = 0;
    const summary = await pollErp(
      this.http,
      instance,
      { get: (k) => ctx.state.get(k), set: (k, v) => ctx.state.put(k, v) },
      async (body, meta) => {
        const r = await ctx.ingest({ key: meta.eventId, body, contentType: meta.contentType, meta: { entityType: meta.entityType, eventId: meta.eventId } });
        if (!r.duplicate) ingested++;
      },
      ctx.signal,
    );
    ctx.note({ feeds: summary.feeds });
    return { ingested };
  }

  acceptFile(req: InboundRequest): Acceptance {
    return { malformed: jsonProblem(req.body) ?? recordsProblem(JSON.parse(req.body.toString('utf8'))) };
  }

  parse(raw: Buffer): ParsedDocument[] {
    const problem = jsonProblem(raw);
    if (problem) throw new PayloadError(problem);
    const body = JSON.parse(raw.toString('utf8'));
    const bad = recordsProblem(body);
    if (bad) throw new PayloadError(bad);
    const records: { entityType: string; rec: Record<string, unknown> }[] = Array.isArray(body)
      ? body.map((r: Record<string, unknown>) => ({ entityType: String(r.entityType), rec: r }))
      : body.records.map((r: Record<string, unknown>) => ({ entityType: body.entityType, rec: r }));
    return records.map(({ entityType, rec }) => ({ documentType: entityType, payload: { ...rec, entityType }, testMode: rec.environment === 'test' }));
  }
}

function recordsProblem(body: unknown): { reason: string; position?: { offset?: number } } | undefined {
  if (Array.isArray(body)) {
    const i = body.findIndex((r) => !r || typeof r !== 'object' || Array.isArray(r) || typeof r.entityType !== 'string' || !ENTITY.test(r.entityType));
    return i >= 0 ? { reason: `record ${i} must be an object with "entityType" such as "sales-order"` } : body.length ? undefined : { reason: 'no records' };
  }
  if (!body || typeof body !== 'object') return { reason: 'expected {"entityType": ..., "records": [...]} or an array of records with "entityType"' };
  const b = body as { entityType?: unknown; records?: unknown };
  if (typeof b.entityType !== 'string' || !ENTITY.test(b.entityType)) return { reason: 'field "entityType" must be an entity type such as "sales-order"' };
  if (!Array.isArray(b.records) || !b.records.length) return { reason: 'field "records" must be a non-empty array of records' };
  const i = b.records.findIndex((r) => !r || typeof r !== 'object' || Array.isArray(r));
  return i >= 0 ? { reason: `records[${i}] must be an object` } : undefined;
}
