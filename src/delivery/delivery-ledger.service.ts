import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditTrail, SYSTEM_ACTOR, type Actor } from '../audit/audit-trail.service.js';
import { integrationException } from '../canonical/exception-draft.js';
import { ExceptionRecording, type AfterCommit } from '../cases/exception-recording.service.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { returnedRows } from '../database/returning.js';
import type { SendResult } from './webhook-sender.js';

/** Per-case order: a delivery waits while an earlier one of its case for the same subscriber is pending. */
const NO_EARLIER_IN_CASE = `NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.subscription_id = d.subscription_id AND p.case_id = d.case_id
                                AND p.status = 'pending' AND p.seq < d.seq)`;

/** The leased rows (CTE `c`) with the subscription's endpoint and the Standard Webhooks body. */
const CLAIMED_WITH_BODY = `SELECT c.id, c.subscription_id, c.case_id, c.attempts, c.manual, s.url, s.sealed_secrets, s.rate_per_second,
                json_build_object('type', e.type, 'timestamp', e.occurred_at, 'eventId', e.tx || '-' || e.id, 'data', e.payload)::text AS body
           FROM c JOIN subscriptions s ON s.id = c.subscription_id JOIN outbox_events e ON e.id = c.event_id`;

/** A claimed delivery with what is needed to send it. */
export interface ClaimedDelivery {
  id: string;
  subscription_id: string;
  case_id: string | null;
  attempts: number;
  manual: boolean;
  url: string;
  sealed_secrets: string;
  rate_per_second: number | null;
  body: string;
}

export interface Outcome {
  status: 'delivered' | 'pending' | 'dead';
  /** When pending: ms until the next attempt. */
  retryInMs?: number;
  attempts: number;
}

/**
 * The delivery rows: claiming one for an attempt, recording each attempt's outcome, raising
 * INTEGRATION.DELIVERY_FAILED, the log, replays and the sweep for work Redis lost.
 */
@Injectable()
export class DeliveryLedger {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditTrail,
    private readonly recording: ExceptionRecording,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
  ) {}

  /**
   * Takes a lease on a due, pending delivery of an active subscription, unless an earlier delivery
   * for the same case and subscription is still pending (per-case order: it goes when that one is
   * delivered or dead). Raw SQL: one statement that claims and reads the body.
   */
  async claim(id: string, leaseMs: number): Promise<ClaimedDelivery | null> {
    return (await this.claimMany([id], leaseMs))[0] ?? null;
  }

  /** `claim` for many deliveries in one statement (a case's next delivery, a job's); answers those it could lease. */
  async claimMany(ids: string[], leaseMs: number): Promise<ClaimedDelivery[]> {
    if (!ids.length) return [];
    return returnedRows<ClaimedDelivery>(
      await this.ds.query(
        `WITH c AS (
           UPDATE deliveries d SET lease_until = now() + make_interval(secs => $2::float8 / 1000)
            WHERE d.id = ANY($1::uuid[]) AND d.status = 'pending' AND d.next_attempt_at <= now() + interval '1 second'
              AND (d.lease_until IS NULL OR d.lease_until < now())
              AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = d.subscription_id AND s.active)
              AND ${NO_EARLIER_IN_CASE}
           RETURNING d.id, d.subscription_id, d.case_id, d.attempts, d.manual, d.event_id)
         ${CLAIMED_WITH_BODY}`,
        [ids, leaseMs],
      ),
    );
  }

  /**
   * Leases up to `limit` deliveries never attempted yet, oldest first across active subscriptions
   * (each subscription's own order from IDX_deliveries_fresh, so a paused subscription's backlog is
   * never scanned). First attempts are taken from the table rather than queued: the row is durable
   * already, a BullMQ job per delivery cost three Redis round trips, and a queue cannot hold work
   * back while the senders are busy: a backlog then waits here, in order, instead of in Redis.
   * SKIP LOCKED: several hub processes pump at once without waiting on each other's rows.
   */
  async claimFresh(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    if (limit <= 0) return [];
    return returnedRows<ClaimedDelivery>(
      await this.ds.query(
        `WITH pick AS (
           SELECT f.id FROM subscriptions s
            CROSS JOIN LATERAL (
              SELECT d.id, d.seq FROM deliveries d
               WHERE d.subscription_id = s.id AND d.status = 'pending' AND d.attempts = 0 AND NOT d.manual
                 AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until < now())
                 AND ${NO_EARLIER_IN_CASE}
               ORDER BY d.seq LIMIT $1 FOR UPDATE OF d SKIP LOCKED) f
            WHERE s.active ORDER BY f.seq LIMIT $1),
         c AS (
           UPDATE deliveries d SET lease_until = now() + make_interval(secs => $2::float8 / 1000) FROM pick WHERE d.id = pick.id
           RETURNING d.id, d.subscription_id, d.case_id, d.attempts, d.manual, d.event_id, d.seq)
         ${CLAIMED_WITH_BODY} ORDER BY c.seq`,
        [limit, leaseMs],
      ),
    );
  }

  /** A rate-limited delivery keeps its lease until its slot, so no sender takes it again before then. */
  async holdUntilSlot(id: string, waitMs: number) {
    await this.ds.query(`UPDATE deliveries SET lease_until = now() + make_interval(secs => $2::float8 / 1000) WHERE id = $1`, [id, waitMs]);
  }

  /**
   * The common case, a 2xx, in one statement (one round trip instead of BEGIN, INSERT, UPDATE,
   * UPDATE, COMMIT and a query for the next delivery of the case): the attempt row, the delivery
   * marked delivered, the subscription's failure streak cleared, and the case's next pending
   * delivery for this subscriber returned so it can go now. Answers null when someone else
   * finished the delivery first (an expired lease taken over): their outcome stands.
   */
  async recordDelivered(d: ClaimedDelivery, r: SendResult, startedAt: Date): Promise<{ next: { id: string; attempts: number } | null } | null> {
    const attempt = d.attempts + 1;
    const [row] = await this.ds.query(
      `WITH a AS (
         INSERT INTO delivery_attempts (delivery_id, attempt, trigger, started_at, status_code, latency_ms, outcome, error, response_excerpt)
         VALUES ($1, $2, $3, $4, $5, $6, 'delivered', NULL, $7)),
       u AS (
         UPDATE deliveries SET status = 'delivered', attempts = $2, lease_until = NULL, manual = false, last_status_code = $5, last_error = NULL, delivered_at = now()
          WHERE id = $1 AND status = 'pending' RETURNING id),
       s AS (
         UPDATE subscriptions SET failing_since = NULL WHERE id = $8 AND failing_since IS NOT NULL AND EXISTS (SELECT 1 FROM u))
       SELECT (SELECT count(*) FROM u)::int AS updated,
              (SELECT json_build_object('id', n.id, 'attempts', n.attempts) FROM deliveries n
                WHERE $9::uuid IS NOT NULL AND n.subscription_id = $8 AND n.case_id = $9 AND n.status = 'pending' AND n.id <> $1
                ORDER BY n.seq LIMIT 1) AS next`,
      [d.id, attempt, d.manual ? 'manual' : 'automatic', startedAt, r.statusCode, r.latencyMs, r.excerpt?.slice(0, 512) ?? null, d.subscription_id, d.case_id],
    );
    return row.updated ? { next: row.next ?? null } : null;
  }

  /** Records one attempt and decides what follows, in one transaction. */
  async recordOutcome(d: ClaimedDelivery, r: SendResult, startedAt: Date): Promise<Outcome> {
    const c = this.cfg.delivery;
    const attempt = d.attempts + 1;
    const ok = r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300;
    const gone = r.statusCode === 410;
    const final = ok || gone || d.manual || attempt >= c.attempts;
    const retryInMs = final ? undefined : (r.retryAfterMs ?? backoff(attempt, c.backoffMs, c.maxBackoffMs));
    const outcome = ok ? 'delivered' : gone ? 'gone' : final ? 'dead' : r.refused ? 'refused' : 'retry';
    // DELIVERY_FAILED cases get their SLA clocks and actions in the transaction; alarms and jobs after it.
    const raised: AfterCommit[] = [];
    const result = await this.ds.transaction(async (m): Promise<Outcome> => {
      await m.query(
        `INSERT INTO delivery_attempts (delivery_id, attempt, trigger, started_at, status_code, latency_ms, outcome, error, response_excerpt)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [d.id, attempt, d.manual ? 'manual' : 'automatic', startedAt, r.statusCode, r.latencyMs, outcome, r.error, r.excerpt?.slice(0, 512) ?? null],
      );
      const status = ok ? 'delivered' : final ? 'dead' : 'pending';
      const updated = returnedRows<{ id: string }>(
        await m.query(
          `UPDATE deliveries SET status = $2::varchar, attempts = $3, lease_until = NULL, manual = false, last_status_code = $4, last_error = $5,
                  next_attempt_at = CASE WHEN $2::varchar = 'pending' THEN now() + make_interval(secs => $6::float8 / 1000) ELSE next_attempt_at END,
                  delivered_at = CASE WHEN $2::varchar = 'delivered' THEN now() ELSE delivered_at END,
                  dead_at = CASE WHEN $2::varchar = 'dead' THEN now() ELSE dead_at END
            WHERE id = $1 AND status = 'pending' RETURNING id`,
          [d.id, status, attempt, r.statusCode, r.error ?? (ok ? null : `HTTP ${r.statusCode}`), retryInMs ?? 0],
        ),
      );
      // Someone else finished it (lease expired and taken over): their outcome stands.
      if (!updated.length) return { status: 'dead', attempts: attempt };
      if (ok) {
        await m.query(`UPDATE subscriptions SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL`, [d.subscription_id]);
        return { status: 'delivered', attempts: attempt };
      }
      if (gone) {
        raised.push(...(await this.disable(m, d, 'endpoint answered 410 Gone')));
      } else {
        const [{ failing_since }] = returnedRows<{ failing_since: Date }>(
          await m.query(`UPDATE subscriptions SET failing_since = COALESCE(failing_since, now()) WHERE id = $1 RETURNING failing_since`, [d.subscription_id]),
        );
        if (Date.now() - new Date(failing_since).getTime() >= c.disableAfterDays * 86_400_000) {
          raised.push(...(await this.disable(m, d, `endpoint failing since ${new Date(failing_since).toISOString()} (over ${c.disableAfterDays} days)`)));
        }
      }
      if (status === 'dead' && !d.manual && !gone) {
        raised.push(await this.raise(m, d, 0, `Webhook delivery ${d.id} dead after ${attempt} attempts`, { lastStatusCode: r.statusCode, lastError: r.error }));
      }
      return { status, retryInMs, attempts: attempt };
    });
    await this.recording.settle(...raised);
    return result;
  }

  private async disable(m: EntityManager, d: ClaimedDelivery, reason: string): Promise<AfterCommit[]> {
    const rows = returnedRows<{ id: string }>(
      await m.query(`UPDATE subscriptions SET active = false, disabled_reason = $2 WHERE id = $1 AND active RETURNING id`, [d.subscription_id, reason]),
    );
    if (!rows.length) return [];
    await this.audit.record(m, [{ actor: SYSTEM_ACTOR, entityType: 'subscription', entityId: d.subscription_id, action: 'subscription.disabled', after: { reason } }]);
    return [await this.raise(m, d, 1, `Subscription ${d.subscription_id} disabled: ${reason}`, { reason })];
  }

  /** INTEGRATION.DELIVERY_FAILED recorded like any exception (routed, case with SLA clocks, tasks, actions); one case per subscription. */
  private async raise(m: EntityManager, d: ClaimedDelivery, ordinal: number, title: string, attrs: Record<string, unknown>): Promise<AfterCommit> {
    const now = new Date();
    const exception = integrationException(
      'INTEGRATION.DELIVERY_FAILED',
      {
        system: 'exception-hub', connectorId: 'delivery', connectorType: 'subscription', messageId: d.id, documentType: 'webhook-delivery',
        testMode: false, receivedAt: now, mapping: { id: 'none', version: 'none' },
      },
      { title, correlationKey: `delivery-failed:${d.subscription_id}`, attributes: { subscriptionId: d.subscription_id, deliveryId: d.id, url: d.url, ...attrs } },
    );
    return (await this.recording.raise(m, [{ messageId: d.id, ordinal, exception }])).after;
  }

  /** The next pending delivery of the same case for the same subscription (it was waiting on this one). */
  async nextInCase(d: ClaimedDelivery): Promise<{ id: string; attempts: number } | null> {
    if (!d.case_id) return null;
    const [row] = await this.ds.query(
      `SELECT id, attempts FROM deliveries WHERE subscription_id = $1 AND case_id = $2 AND status = 'pending' ORDER BY seq LIMIT 1`,
      [d.subscription_id, d.case_id],
    );
    return row ?? null;
  }

  /**
   * Retries and replays that are overdue and not leased: their job was lost (Redis down, flushed) or
   * never made. First attempts are not the sweeper's: the senders take them from the table (claimFresh).
   */
  async overdue(graceMs: number, limit = 1000): Promise<{ id: string; attempts: number }[]> {
    return this.ds.query(
      `SELECT d.id, d.attempts FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id AND s.active
        WHERE d.status = 'pending' AND (d.attempts > 0 OR d.manual) AND d.next_attempt_at < now() - make_interval(secs => $1::float8 / 1000)
          AND (d.lease_until IS NULL OR d.lease_until < now())
          AND NOT EXISTS (SELECT 1 FROM deliveries p WHERE p.subscription_id = d.subscription_id AND p.case_id = d.case_id
                            AND p.status = 'pending' AND p.seq < d.seq)
        ORDER BY d.next_attempt_at LIMIT $2`,
      [graceMs, limit],
    );
  }

  /** Dead deliveries back to pending for one manual attempt; the id (webhook-id) stays. */
  async replay(where: { id?: string; subscriptionId?: string; since?: Date }, actor: Actor): Promise<{ id: string; attempts: number }[]> {
    return this.ds.transaction(async (m) => {
      const rows = returnedRows<{ id: string; attempts: number }>(
        await m.query(
          `UPDATE deliveries SET status = 'pending', manual = true, next_attempt_at = now(), lease_until = NULL, dead_at = NULL
            WHERE status = 'dead' AND ($1::uuid IS NULL OR id = $1) AND ($2::uuid IS NULL OR subscription_id = $2)
              AND ($3::timestamptz IS NULL OR created_at >= $3)
            RETURNING id, attempts`,
          [where.id ?? null, where.subscriptionId ?? null, where.since ?? null],
        ),
      );
      await this.audit.record(m, rows.map((r) => ({ actor, entityType: 'delivery' as const, entityId: r.id, action: 'delivery.replayed' })));
      return rows;
    });
  }

  async list(q: { subscriptionId?: string; status?: string; eventType?: string; caseId?: string; after?: string; limit: number }) {
    const rows = await this.ds.query(
      `SELECT d.id, d.seq, d.event_id AS "eventId", d.subscription_id AS "subscriptionId", d.case_id AS "caseId", d.event_type AS "eventType",
              d.status, d.attempts, d.next_attempt_at AS "nextAttemptAt", d.last_status_code AS "lastStatusCode", d.last_error AS "lastError",
              d.created_at AS "createdAt", d.delivered_at AS "deliveredAt", d.dead_at AS "deadAt"
         FROM deliveries d
        WHERE ($1::uuid IS NULL OR d.subscription_id = $1) AND ($2::text IS NULL OR d.status = $2) AND ($3::text IS NULL OR d.event_type = $3)
          AND ($4::uuid IS NULL OR d.case_id = $4) AND ($5::bigint IS NULL OR d.seq > $5)
        ORDER BY d.seq LIMIT $6`,
      [q.subscriptionId ?? null, q.status ?? null, q.eventType ?? null, q.caseId ?? null, q.after ?? null, q.limit],
    );
    return { items: rows, nextCursor: rows.length === q.limit ? rows[rows.length - 1].seq : null };
  }

  async attempts(deliveryId: string) {
    return this.ds.query(
      `SELECT attempt, trigger, started_at AS "startedAt", status_code AS "statusCode", latency_ms AS "latencyMs", outcome, error,
              response_excerpt AS "responseExcerpt" FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id`,
      [deliveryId],
    );
  }
}

/** Exponential backoff with ±50% jitter: attempt n waits base·2^(n-1), capped. */
export function backoff(attempt: number, baseMs: number, maxMs: number): number {
  const b = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(b * (0.5 + Math.random()));
}
