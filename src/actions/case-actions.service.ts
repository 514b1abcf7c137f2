import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { AuditTrail, type AuditEntry } from '../audit/audit-trail.service.js';
import type { ActionOutcome } from '../connectors/connector.js';
import { returnedRows } from '../database/returning.js';
import { EventFeed, type NewEvent } from '../delivery/event-feed.service.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { QUEUE_POLICY, QueueName } from '../queues/queue-policy.js';
import { actionIdentity, NotifyParams, type ActionSpec } from '../routing/rule-outputs.js';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { fillParams } from './action-params.js';
import { CaseActionRecord, type ActionStatus } from './case-action.entity.js';
import { notifiedRecords, settledRecords, type ActionCase } from './action-records.js';
import type { ActionRun } from './action-runner.js';
import { writeJointly } from '../database/joint-write.js';

export type { ActionCase };

/** Planned with a new case: jobs to enqueue after commit, and the records of actions already done. */
export interface PlannedActions {
  enqueue: string[];
  audit: AuditEntry[];
  events: NewEvent[];
}

interface ActionRow {
  id: string;
  case_id: string;
  rule_id: string;
  action: string;
  params: Record<string, unknown>;
  idempotency_key: string;
  status: ActionStatus;
  attempts: number;
  result: Record<string, unknown> | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

export interface ActionJob {
  actionId: string;
}

/** One case's rule actions to plan: params filled from `opener`; `round` for a re-opened case. */
export interface ActionsToPlan {
  caseId: string;
  ruleId: string;
  specs: ActionSpec[];
  opener?: CanonicalException;
  kase?: ActionCase;
  round?: number;
}

/** Rows per INSERT: 13 columns each stay far below PostgreSQL's 65,535 parameters. */
const INSERT_CHUNK = 1000;

/**
 * Stable across retries and re-deliveries: the target system deduplicates with it, and it makes the
 * `case_actions` row unique. One per action of the rule: case, action type, rule and a hash of the
 * action's identity (type, `on`, params as the policy declares them; actionIdentity). A hash rather
 * than the action's position: a policy edit that only reorders a rule's actions keeps every key, so
 * nothing identical is sent again under a new key. The policy refuses two identical actions in one rule,
 * so two `notify` (or `http`) actions of a rule never share a key. A re-opened case plans its rule's
 * actions again with the round (`:r<re-open count>`): a new effect, deduplicated within its round.
 */
export const idempotencyKey = (caseId: string, ruleId: string, spec: Pick<ActionSpec, 'action' | 'on' | 'params'>, round?: number) =>
  `${caseId}:${spec.action}:${ruleId}:${createHash('sha256').update(actionIdentity(spec)).digest('hex').slice(0, 16)}${round ? `:r${round}` : ''}`;

/** Case actions in PostgreSQL (`case_actions`) and their jobs on the action queue. */
@Injectable()
export class CaseActions {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @InjectQueue(QueueName.CaseActions) private readonly queue: Queue<ActionJob>,
    private readonly audit: AuditTrail,
    private readonly events: EventFeed,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  /**
   * Records rules' actions for cases in the caller's transaction (a pipeline batch's new cases: one
   * INSERT per 1,000 actions, not one per case), params filled from each case's opening exception;
   * returns the ids to enqueue after commit. `on: resolve` actions wait as `on-resolve`.
   * A `notify` action touches nothing outside the hub (an audit entry and an outbox event), so it is
   * done right here, in the transaction that opens the case, instead of costing a job and a
   * transaction of its own; its records are returned for the caller to write after the case's own.
   */
  async plan(m: EntityManager, items: ActionsToPlan[], now: Date): Promise<PlannedActions> {
    const out: PlannedActions = { enqueue: [], audit: [], events: [] };
    const rows = items.flatMap(({ caseId, ruleId, specs, opener, kase, round }) =>
      specs.map((a) => {
        const params = fillParams(a.params, opener);
        const row = {
          id: uuidv7(), caseId, ruleId, action: a.action, params, idempotencyKey: idempotencyKey(caseId, ruleId, a, round),
          status: a.on === 'resolve' ? ('on-resolve' as ActionStatus) : ('pending' as ActionStatus), attempts: 0,
          result: null as Record<string, unknown> | null, lastError: null, createdAt: now, updatedAt: now, completedAt: null as Date | null,
        };
        const notice = row.status === 'pending' && a.action === 'notify' && kase ? NotifyParams.safeParse(params) : null;
        if (notice?.success) {
          Object.assign(row, { status: 'done', attempts: 1, completedAt: now, result: { summary: `notified ${notice.data.team}`, response: null, attempt: 1 } });
          return { row, notice: notice.data, kase };
        }
        return { row, notice: null, kase };
      }),
    );
    // A row already there (same idempotency key) was not inserted: its effects were recorded with it.
    const inserted = new Set<string>();
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const chunk = rows.slice(i, i + INSERT_CHUNK).map((r) => r.row);
      const res = await m.createQueryBuilder().insert().into(CaseActionRecord).values(chunk as never[]).orIgnore().returning(['id', 'status']).execute();
      for (const r of res.raw as { id: string }[]) inserted.add(r.id);
    }
    for (const { row, notice, kase } of rows) {
      if (!inserted.has(row.id)) continue;
      if (row.status === 'pending') out.enqueue.push(row.id);
      if (notice && row.status === 'done') {
        for (const r of [notifiedRecords(row, notice, kase ?? null), settledRecords(row, 'done', row.result as never, kase ?? null)]) {
          out.audit.push(...r.audit);
          out.events.push(...r.events);
        }
      }
    }
    return out;
  }

  /** The case resolved: its `on-resolve` actions become pending (in the caller's transaction); returns their ids to enqueue after commit. */
  async release(m: EntityManager, caseIds: string[]): Promise<string[]> {
    if (!caseIds.length) return [];
    const rows = returnedRows<{ id: string }>(
      await m.query(`UPDATE case_actions SET status = 'pending', updated_at = now() WHERE case_id = ANY($1::uuid[]) AND status = 'on-resolve' RETURNING id`, [caseIds]),
    );
    return rows.map((r) => r.id);
  }

  /** Puts actions on the queue; a failure is logged, the scheduler re-enqueues pending actions. */
  async enqueue(ids: string[]): Promise<void> {
    if (!ids.length) return;
    const p = QUEUE_POLICY[QueueName.CaseActions];
    try {
      await this.queue.addBulk(
        ids.map((actionId) => ({
          name: 'run',
          data: { actionId },
          opts: { jobId: `act_${actionId}`, attempts: p.attempts, backoff: { type: 'jittered' }, removeOnComplete: p.removeOnComplete, removeOnFail: p.removeOnFail },
        })),
      );
    } catch (e) {
      this.log.warn({ err: (e as Error).message, actions: ids.length }, 'could not enqueue case actions; the scheduler re-enqueues them');
    }
  }

  /** Claims an action for an attempt; null when it is already done or failed for good (never run a done action again). */
  async begin(actionId: string): Promise<CaseActionRecord | null> {
    // One statement: the claim returns the row (a claim and a read were two round trips per action).
    const rows = returnedRows<ActionRow>(
      await this.ds.query(
        `UPDATE case_actions SET status = 'running', attempts = attempts + 1, updated_at = now()
          WHERE id = $1 AND status IN ('pending', 'running')
          RETURNING id, case_id, rule_id, action, params, idempotency_key, status, attempts, result, last_error, created_at, updated_at, completed_at`,
        [actionId],
      ),
    );
    if (!rows.length) return null;
    const r = rows[0];
    return Object.assign(new CaseActionRecord(), {
      id: r.id, caseId: r.case_id, ruleId: r.rule_id, action: r.action, params: r.params, idempotencyKey: r.idempotency_key, status: r.status,
      attempts: r.attempts, result: r.result, lastError: r.last_error, createdAt: r.created_at, updatedAt: r.updated_at, completedAt: r.completed_at,
    });
  }

  /** Records an attempt's outcome, with audit entries and outbox events when the action is settled. */
  async finish(a: CaseActionRecord, outcome: ActionOutcome, settled: boolean, effects?: ActionRun['effects']): Promise<void> {
    await this.ds.transaction(async (m) => {
      const status = outcome.status === 'done' ? 'done' : settled ? 'failed' : 'pending';
      const result = { summary: outcome.summary, response: outcome.response ?? null, attempt: a.attempts, ...(outcome.changed !== undefined ? { changed: outcome.changed } : {}) };
      const r = await m.update(CaseActionRecord, { id: a.id, status: 'running' }, {
        status, result: result as never, lastError: outcome.status === 'failed' ? outcome.summary.slice(0, 2000) : a.lastError,
        updatedAt: new Date(), completedAt: status === 'pending' ? null : new Date(),
      });
      // Another run settled it meanwhile: its effects and audit stand, this run adds none.
      if (!r.affected || status === 'pending') return;
      const kase = await this.caseFacts(m, a.caseId);
      const parts = [...(status === 'done' && effects ? [effects(kase)] : []), settledRecords(a, status, result, kase)];
      await writeJointly(m, [this.audit.part(parts.flatMap((p) => p.audit)), this.events.part(parts.flatMap((p) => p.events))]);
    });
  }

  /** What the action's records say about its case; the policy version that asked for it is in the case's routing decision. */
  private async caseFacts(m: EntityManager, caseId: string): Promise<ActionCase | null> {
    const rows: { title: string; severity: string; code: string; owner_team: string; site: string | null; business_unit: string | null; policy: unknown }[] = await m.query(
      `SELECT title, severity, code, owner_team, site, business_unit, routing->'policy' AS policy FROM cases WHERE id = $1`,
      [caseId],
    );
    const k = rows[0];
    return k ? { title: k.title, severity: k.severity, code: k.code, ownerTeam: k.owner_team, site: k.site, businessUnit: k.business_unit, policy: k.policy ?? null } : null;
  }

  /**
   * An attempt that found it is too early to act (ActionOutcome.waitMs): pending again, the attempt not
   * counted. `waitingSince` keeps the time of the first postponement (see `waitingSince`).
   */
  async postpone(a: CaseActionRecord, summary: string): Promise<void> {
    await this.ds.query(
      `UPDATE case_actions
          SET status = 'pending', attempts = greatest(attempts - 1, 0), updated_at = now(),
              result = jsonb_build_object('summary', $2::text, 'waiting', true,
                                          'waitingSince', coalesce(CASE WHEN result->>'waiting' = 'true' THEN result->>'waitingSince' END, $3::text))
        WHERE id = $1 AND status = 'running'`,
      [a.id, summary, new Date().toISOString()],
    );
  }

  /**
   * The run of `action` by the same case, rule and round as `a` (a re-opened case's round is the key's
   * `:r<n>` suffix) whose params contain `params`: the action an undoing action (a hold's release) undoes.
   */
  async counterpart(a: CaseActionRecord, action: string, params: Record<string, unknown>): Promise<{ status: ActionStatus; result: Record<string, unknown> | null; updatedAt: Date } | null> {
    const rows: { status: ActionStatus; result: Record<string, unknown> | null; updatedAt: Date }[] = await this.ds.query(
      `SELECT status, result, updated_at AS "updatedAt" FROM case_actions
        WHERE case_id = $1 AND rule_id = $2 AND action = $3 AND params @> $4::jsonb
          AND substring(idempotency_key from ':r[0-9]+$') IS NOT DISTINCT FROM substring($5::text from ':r[0-9]+$')
        ORDER BY created_at LIMIT 1`,
      [a.caseId, a.ruleId, action, JSON.stringify(params), a.idempotencyKey],
    );
    return rows[0] ?? null;
  }

  forCase(caseId: string) {
    return this.ds.getRepository(CaseActionRecord).find({ where: { caseId }, order: { createdAt: 'ASC', action: 'ASC' } });
  }

  /** Unfinished actions not touched for a while (their job was lost): enqueue again. */
  async requeueStale(olderThanMs: number): Promise<number> {
    const rows: { id: string }[] = await this.ds.query(
      `SELECT id FROM case_actions WHERE status IN ('pending', 'running') AND updated_at < now() - ($1::int * interval '1 millisecond') ORDER BY updated_at LIMIT 1000`,
      [olderThanMs],
    );
    // A job still waiting or retrying keeps its id; only lost ones are added (failed jobs are not kept:
    // queue-policy.ts), so an unsettled action whose job failed for good runs again too.
    await this.enqueue(rows.map((r) => r.id));
    return rows.length;
  }
}
