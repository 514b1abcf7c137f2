import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { CircuitBreakerPolicy } from 'cockatiel';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { readPath } from '../canonical/exception.schema.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import type { ConnectorLookup, ResolvedInstance } from '../connectors/connector.js';
import { ConnectorInstances } from '../connectors/connector-instances.service.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { HubMetrics } from '../observability/hub-metrics.js';
import { redisConnection } from '../queues/redis-connection.js';
import { EnrichRules, type EnrichRule } from './enrich-rules.js';

interface Source {
  instance: ResolvedInstance;
  rules: EnrichRule[];
  lookups: Record<string, ConnectorLookup<any, any>>;
}

export interface EnrichmentError {
  connector: string;
  lookup: string;
  error: string;
}

const SOURCES_MS = 5000;
/** After this many failures in a row a lookup is skipped for BREAKER_OPEN_MS, so a down ERP cannot hold a batch for timeout × exceptions. */
const BREAKER_FAILURES = 3;
const BREAKER_OPEN_MS = 15_000;

/**
 * Enrichment before routing: the lookups connector instances declare in `config.enrich` run for
 * matching exception codes and fill fields routing reads (customerTier, attributes.*). Results are
 * cached in Redis (shared by every worker) for the lookup's TTL; each lookup is bounded by its
 * timeout. A failed or slow lookup never fails the message: the exception routes on what is known,
 * with the failure in attributes.enrichment.errors and hub_enrichment_lookups_total{outcome}.
 */
@Injectable()
export class Enrichment implements OnApplicationShutdown {
  private redis?: Redis;
  private sources?: { at: number; value: Source[] };
  private breakers = new Map<string, CircuitBreakerPolicy>();
  private inFlight = new Map<string, Promise<Record<string, unknown> | null>>();

  constructor(
    private readonly instances: ConnectorInstances,
    private readonly metrics: HubMetrics,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  onApplicationShutdown() {
    this.redis?.disconnect();
  }

  async enrich(exceptions: CanonicalException[]): Promise<CanonicalException[]> {
    if (!exceptions.length) return exceptions;
    const sources = await this.activeSources();
    if (!sources.length) return exceptions;
    return Promise.all(exceptions.map((e) => this.enrichOne(e, sources)));
  }

  private async enrichOne(exc: CanonicalException, sources: Source[]): Promise<CanonicalException> {
    let out = exc;
    const errors: EnrichmentError[] = [];
    const applied: string[] = [];
    for (const src of sources) {
      for (const rule of src.rules) {
        if (!rule.codes.includes(exc.code)) continue;
        const key: Record<string, string> = {};
        for (const [name, path] of Object.entries(rule.key)) {
          const v = readPath(exc, path);
          if (v !== undefined && v !== '') key[name] = String(v);
        }
        if (Object.keys(key).length !== Object.keys(rule.key).length) continue; // nothing to look up by
        const lookup = src.lookups[rule.lookup];
        if (!lookup) {
          errors.push({ connector: src.instance.id, lookup: rule.lookup, error: `connector has no lookup "${rule.lookup}"` });
          continue;
        }
        try {
          const result = await this.cachedLookup(src.instance, rule, lookup, key);
          if (result) {
            out = apply(out, rule, result);
            applied.push(`${src.instance.id}.${rule.lookup}`);
          }
        } catch (e) {
          const timedOut = (e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError';
          const skipped = (e as { isBrokenCircuitError?: boolean }).isBrokenCircuitError === true;
          this.metrics.enrichmentLookups.inc({ lookup: rule.lookup, outcome: timedOut ? 'timeout' : skipped ? 'skipped' : 'error' });
          const error = timedOut ? `no answer within ${rule.timeoutMs} ms` : skipped ? `skipped: the last ${BREAKER_FAILURES} lookups failed; retrying after ${BREAKER_OPEN_MS / 1000} s` : (e as Error).message.slice(0, 300);
          errors.push({ connector: src.instance.id, lookup: rule.lookup, error });
          this.log.warn({ connector: src.instance.id, lookup: rule.lookup, code: exc.code, err: (e as Error).message }, 'enrichment lookup failed; routing on what is known');
        }
      }
    }
    if (!applied.length && !errors.length) return out;
    return { ...out, attributes: { ...out.attributes, enrichment: { applied, ...(errors.length ? { errors } : {}) } } };
  }

  /**
   * One lookup per key at a time in this process: the exceptions of one batch often name the same
   * customer or order, and without this each would miss the cache at once and ask the ERP.
   */
  private cachedLookup(inst: ResolvedInstance, rule: EnrichRule, lookup: ConnectorLookup<any, any>, key: Record<string, string>): Promise<Record<string, unknown> | null> {
    const cacheKey = `${this.cfg.keyPrefix}:enrich:${inst.id}:${rule.lookup}:${createHash('sha256').update(JSON.stringify(Object.entries(key).sort())).digest('hex').slice(0, 32)}`;
    const pending = this.inFlight.get(cacheKey);
    if (pending) {
      this.metrics.enrichmentLookups.inc({ lookup: rule.lookup, outcome: 'shared' });
      return pending;
    }
    const p = this.lookupOnce(cacheKey, inst, rule, lookup, key).finally(() => this.inFlight.delete(cacheKey));
    this.inFlight.set(cacheKey, p);
    return p;
  }

  private async lookupOnce(cacheKey: string, inst: ResolvedInstance, rule: EnrichRule, lookup: ConnectorLookup<any, any>, key: Record<string, string>): Promise<Record<string, unknown> | null> {
    const redis = this.client();
    const cached = await redis.get(cacheKey).catch(() => null); // a cache outage costs speed, not correctness
    if (cached !== null) {
      this.metrics.enrichmentLookups.inc({ lookup: rule.lookup, outcome: 'hit' });
      return JSON.parse(cached);
    }
    const breaker = await this.breakerFor(`${inst.id}:${rule.lookup}`);
    const result = await breaker.execute(() => {
      const signal = AbortSignal.timeout(rule.timeoutMs);
      // The lookup gets the signal; the race makes sure a lookup that ignores it still cannot stall the pipeline.
      return Promise.race([
        lookup.run(inst, key, signal),
        new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
      ]);
    });
    this.metrics.enrichmentLookups.inc({ lookup: rule.lookup, outcome: 'miss' });
    await redis.set(cacheKey, JSON.stringify(result ?? null), 'PX', lookup.ttlMs).catch(() => undefined);
    return result ?? null;
  }

  private async breakerFor(name: string): Promise<CircuitBreakerPolicy> {
    let b = this.breakers.get(name);
    if (!b) {
      // Loaded when a first lookup runs, not at every process start.
      const { circuitBreaker, handleAll, ConsecutiveBreaker } = await import('cockatiel');
      b = circuitBreaker(handleAll, { halfOpenAfter: BREAKER_OPEN_MS, breaker: new ConsecutiveBreaker(BREAKER_FAILURES) });
      this.breakers.set(name, b);
    }
    return b;
  }

  /** Enabled instances with enrichment rules and lookups, re-read every few seconds. */
  private async activeSources(): Promise<Source[]> {
    if (this.sources && Date.now() - this.sources.at < SOURCES_MS) return this.sources.value;
    const value: Source[] = [];
    for (const row of await this.instances.list()) {
      if (!row.enabled) continue;
      const lookups = this.instances.connectorFor(row.type).lookups;
      const rules = EnrichRules.safeParse((row.config as { enrich?: unknown }).enrich ?? []);
      if (!lookups || !rules.success || !rules.data.length) continue;
      const instance = await this.instances.resolve(row.id);
      if (instance) value.push({ instance, rules: rules.data, lookups });
    }
    this.sources = { at: Date.now(), value };
    return value;
  }

  private client(): Redis {
    if (!this.redis) {
      // Commands wait for the first connection, then fail fast (one retry) while Redis is down.
      this.redis = new Redis({ ...redisConnection(this.cfg.redisUrl, { worker: false }), enableOfflineQueue: true });
      this.redis.on('error', () => undefined);
    }
    return this.redis;
  }
}

/** Copies result fields onto the exception; values the source already sent win unless `overwrite`. */
function apply(exc: CanonicalException, rule: EnrichRule, result: Record<string, unknown>): CanonicalException {
  const out: CanonicalException = { ...exc, attributes: { ...exc.attributes } };
  for (const [target, field] of Object.entries(rule.set)) {
    const value = readPath(result, field);
    if (value === undefined) continue;
    if (target.startsWith('attributes.')) {
      const path = target.slice('attributes.'.length).split('.');
      let obj = out.attributes as Record<string, unknown>;
      for (const p of path.slice(0, -1)) obj = (obj[p] = { ...((obj[p] as Record<string, unknown>) ?? {}) });
      if (rule.overwrite || obj[path[path.length - 1]] === undefined) obj[path[path.length - 1]] = value;
    } else {
      const t = target as 'customerTier' | 'site' | 'businessUnit';
      if (rule.overwrite || out[t] === undefined) out[t] = String(value).slice(0, t === 'customerTier' ? 32 : 64);
    }
  }
  return out;
}
