import { Inject, Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { AuditTrail, SYSTEM_ACTOR } from '../audit/audit-trail.service.js';
import { CaseRecord } from '../cases/case.entity.js';
import type { ActionOutcome } from '../connectors/connector.js';
import { returnedRows } from '../database/returning.js';
import { EventFeed } from '../delivery/event-feed.service.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import { QUEUE_POLICY, QueueName } from '../queues/queue-policy.js';
import type { ActionSpec } from '../routing/rule-outputs.js';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { fillParams } from './action-params.js';
import { CaseActionRecord } from './case-action.entity.js';

export interface ActionJob {
  actionId: string;
}

/** Stable across retries and re-deliveries: the target system deduplicates with it. */
export const idempotencyKey = (caseId: string, action: string, ruleId: string) => `${caseId}:${action}:${ruleId}`;

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
   * Records a rule's actions for a case in the caller's transaction, params filled from the opening
   * exception; returns the ids to enqueue after commit. `on: resolve` actions wait as `on-resolve`.
   */
  async plan(m: EntityManager, caseId: string, ruleId: string, specs: ActionSpec[], now: Date, opener?: CanonicalException): Promise<string[]> {
    if (!specs.length) return [];
    const rows = specs.map((a) => ({
      id: uuidv7(), caseId, ruleId, action: a.action, params: fillParams(a.params, opener), idempotencyKey: idempotencyKey(caseId, a.action, ruleId),
      status: a.on === 'resolve' ? ('on-resolve' as const) : ('pending' as const), attempts: 0, result: null, lastError: null, createdAt: now, updatedAt: now, completedAt: null,
    }));
    const res = await m.createQueryBuilder().insert().into(CaseActionRecord).values(rows as never[]).orIgnore().returning(['id', 'status']).execute();
    return (res.raw as { id: string; status: string }[]).filter((r) => r.status === 'pending').map((r) => r.id);
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
    const rows = returnedRows<{ id: string }>(
      await this.ds.query(
        `UPDATE case_actions SET status = 'running', attempts = attempts + 1, updated_at = now()
          WHERE id = $1 AND status IN ('pending', 'running') RETURNING id`,
        [actionId],
      ),
    );
    if (!rows.length) return null;
    return this.ds.getRepository(CaseActionRecord).findOne({ where: { id: actionId } });
  }

  /** Records an attempt's outcome, with audit entry and outbox event when the action is settled. */
  async finish(a: CaseActionRecord, outcome: ActionOutcome, settled: boolean, inTransaction?: (m: EntityManager) => Promise<void>): Promise<void> {
    await this.ds.transaction(async (m) => {
      const status = outcome.status === 'done' ? 'done' : settled ? 'failed' : 'pending';
      const result = { summary: outcome.summary, response: outcome.response ?? null, attempt: a.attempts };
      const r = await m.update(CaseActionRecord, { id: a.id, status: 'running' }, {
        status, result: result as never, lastError: outcome.status === 'failed' ? outcome.summary.slice(0, 2000) : a.lastError,
        updatedAt: new Date(), completedAt: status === 'pending' ? null : new Date(),
      });
      // Another run settled it meanwhile: its effects and audit stand, this run adds none.
      if (!r.affected || status === 'pending') return;
      if (status === 'done' && inTransaction) await inTransaction(m);
      const kase = await m.findOne(CaseRecord, { where: { id: a.caseId } });
      // The policy version that asked for it (the case keeps its routing decision), next to the rule.
      const after = { actionId: a.id, action: a.action, rule: a.ruleId, policy: kase?.routing?.policy ?? null, idempotencyKey: a.idempotencyKey, status, attempts: a.attempts, ...result };
      await this.audit.record(m, [{ actor: SYSTEM_ACTOR, entityType: 'case', entityId: a.caseId, action: status === 'done' ? 'case.action.done' : 'case.action.failed', after }]);
      await this.events.append(m, [
        {
          type: status === 'done' ? 'case.action.done' : 'case.action.failed',
          caseId: a.caseId,
          entityType: 'case',
          entityId: a.caseId,
          facets: kase ? { team: kase.ownerTeam, code: kase.code, severity: kase.severity, site: kase.site, businessUnit: kase.businessUnit } : {},
          payload: { caseId: a.caseId, ...after },
        },
      ]);
    });
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
    // A job still waiting or retrying keeps its id; only lost ones are added.
    await this.enqueue(rows.map((r) => r.id));
    return rows.length;
  }
}
