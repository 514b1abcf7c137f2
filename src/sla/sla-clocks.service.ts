import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { prepared } from '../database/prepared.js';
import { AuditTrail, SYSTEM_ACTOR, type AuditEntry } from '../audit/audit-trail.service.js';
import { CaseRecord } from '../cases/case.entity.js';
import { EventFeed, type NewEvent } from '../delivery/event-feed.service.js';
import { Router } from '../routing/router.service.js';
import { BusinessCalendar, calendarsOf } from './business-calendar.js';
import { Clock } from './clock.js';
import { SlaClockRecord, type FiredThreshold } from './sla-clock.entity.js';
import type { ClockPlan } from './sla-plan.js';
import { arrayParams, writeJointly, type WritePart } from '../database/joint-write.js';

/** An alarm to set: the BullMQ job for a clock's next threshold. */
export interface Alarm {
  clockId: string;
  threshold: number;
  dueAt: Date;
}

export type FireResult = { fired: FiredThreshold[]; next: Alarm | null } | { early: Alarm } | { stale: true };

/**
 * SLA clocks in PostgreSQL: start, stop, pause, resume, and firing thresholds. Every method works in
 * the caller's transaction (or its own) and returns the alarms to set after commit; SlaTimers sets them.
 */
@Injectable()
export class SlaClocks {
  /** Calendars per effective policy object (a new activation makes new objects; old ones are collected). */
  private calendars = new WeakMap<object, Map<string, BusinessCalendar>>();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly router: Router,
    private readonly clock: Clock,
    private readonly audit: AuditTrail,
    private readonly events: EventFeed,
  ) {}

  now(): Date {
    return this.clock.now();
  }

  /**
   * A calendar of the policy in force for `scope` (an overlay id, null for the enterprise policy): the
   * scope a clock was planned in, so a site's own calendar keeps counting its cases' clocks.
   */
  calendar(id: string, scope: string | null = null): BusinessCalendar {
    const p = this.router.policyOfScope(scope);
    let map = this.calendars.get(p);
    if (!map) this.calendars.set(p, (map = calendarsOf(p.calendars)));
    // A clock started under an older policy keeps counting in 24x7 if its calendar was removed.
    return map.get(id) ?? BusinessCalendar.ALWAYS;
  }

  /** Inserts running clocks; returns their first alarms. */
  async start(m: EntityManager, items: { caseId: string; taskId?: string | null; plan: ClockPlan }[], now = this.now()): Promise<Alarm[]> {
    const { write, alarms } = this.startWrite(items, now);
    await writeJointly(m, [write]);
    return alarms;
  }

  /**
   * `start` as a write for the caller's joint statement (`writeJointly`), and the alarms to set once it
   * has committed. Only for a caller that reads none of these clocks (nor the cases' due times) before
   * the write is made: the rest of its transaction would not see them.
   */
  startWrite(items: { caseId: string; taskId?: string | null; plan: ClockPlan }[], now = this.now()): { write: WritePart | null; alarms: Alarm[] } {
    if (!items.length) return { write: null, alarms: [] };
    const rows = items.map(({ caseId, taskId, plan }) => {
      const r = Object.assign(new SlaClockRecord(), {
        id: uuidv7(), caseId, taskId: taskId ?? null, kind: plan.kind, slaId: plan.slaId, calendarId: plan.calendarId, policyScope: plan.scope ?? null, status: 'running',
        startedAt: now, targetMs: String(Math.max(0, Math.round(plan.targetMs))), consumedMs: '0', segmentStartedAt: now,
        thresholds: plan.thresholds, fired: [], breachedAt: null, stoppedAt: null, outcome: null, basis: plan.basis,
      });
      return Object.assign(r, this.schedule(r, now));
    });
    // Raw SQL: one unnest INSERT for a batch's clocks, like the rest of the pipeline transaction, and the
    // mirror on their cases (see mirrorOnCases) in the same statement: the new clocks are read from the
    // INSERT's RETURNING (a statement does not see its own CTE's rows), existing ones from the table.
    const write: WritePart = {
      ctes: (p, tag) => `clocks_new${tag} AS (
         INSERT INTO sla_clocks (id, case_id, task_id, kind, sla_id, calendar_id, status, started_at, target_ms, consumed_ms,
                                 segment_started_at, due_at, next_threshold, next_due_at, thresholds, fired, basis, policy_scope)
         SELECT u.id, u.case_id, u.task_id, u.kind, u.sla_id, u.calendar_id, 'running', u.started_at, u.target_ms, 0,
                u.started_at, u.due_at, u.next_threshold, u.next_due_at, u.thresholds, '[]'::jsonb, u.basis, u.policy_scope
           FROM unnest(${arrayParams(p, ['uuid', 'uuid', 'uuid', 'varchar', 'varchar', 'varchar', 'timestamptz', 'bigint', 'timestamptz', 'int', 'timestamptz', 'jsonb', 'varchar', 'varchar'])})
                AS u(id, case_id, task_id, kind, sla_id, calendar_id, started_at, target_ms, due_at, next_threshold, next_due_at, thresholds, basis, policy_scope)
         RETURNING case_id, task_id, kind, due_at, started_at),
       clocks_all${tag} AS (SELECT case_id, task_id, kind, due_at, started_at FROM sla_clocks WHERE case_id IN (SELECT case_id FROM clocks_new${tag})
             UNION ALL SELECT case_id, task_id, kind, due_at, started_at FROM clocks_new${tag})`,
      sql: (_, tag) => `${MIRROR_SET.replace(/FROM sla_clocks k WHERE k.case_id = c.id AND k.task_id IS NULL AND k.kind/g, `FROM clocks_all${tag} k WHERE k.case_id = c.id AND k.task_id IS NULL AND k.kind`)}
        WHERE c.id IN (SELECT case_id FROM clocks_new${tag})`,
      args: [
        rows.map((r) => r.id), rows.map((r) => r.caseId), rows.map((r) => r.taskId), rows.map((r) => r.kind), rows.map((r) => r.slaId),
        rows.map((r) => r.calendarId), rows.map((r) => r.startedAt), rows.map((r) => r.targetMs), rows.map((r) => r.dueAt),
        rows.map((r) => r.nextThreshold), rows.map((r) => r.nextDueAt), rows.map((r) => JSON.stringify(r.thresholds)), rows.map((r) => r.basis),
        rows.map((r) => r.policyScope),
      ],
    };
    return { write, alarms: rows.filter((r) => r.nextThreshold !== null).map((r) => ({ clockId: r.id, threshold: r.nextThreshold!, dueAt: r.nextDueAt! })) };
  }

  /**
   * Stops clocks of cases (all, only some kinds, or one task's); outcome met or breached, or `cancelled`.
   * Several cases (a batch the hub cleared) cost the same three statements as one: lock, update, mirror.
   * Returns the stopped clocks' pending alarms, to remove after commit.
   */
  async stop(m: EntityManager, cases: string | string[], which: { kinds?: string[]; taskId?: string; caseClocksOnly?: boolean }, outcome?: 'cancelled', now = this.now()): Promise<Alarm[]> {
    const clocks = (await this.lockedClocks(m, cases)).filter(
      (c) => c.status !== 'stopped' && (!which.kinds || which.kinds.includes(c.kind)) && (which.taskId === undefined || c.taskId === which.taskId) && (!which.caseClocksOnly || c.taskId === null),
    );
    if (!clocks.length) return [];
    const consumed = clocks.map((c) => this.consumed(c, now));
    await m.query(
      `UPDATE sla_clocks s SET status = 'stopped', stopped_at = $2, consumed_ms = u.consumed, segment_started_at = NULL, due_at = NULL,
              next_threshold = NULL, next_due_at = NULL, outcome = u.outcome
         FROM unnest($1::uuid[], $3::bigint[], $4::varchar[]) AS u(id, consumed, outcome) WHERE s.id = u.id`,
      [clocks.map((c) => c.id), now, consumed.map(String), clocks.map((c, i) => outcome ?? (c.breachedAt || consumed[i] > Number(c.targetMs) ? 'breached' : 'met'))],
    );
    await this.mirrorOnCases(m, [...new Set(clocks.map((c) => c.caseId))]);
    return clocks.filter((c) => c.nextThreshold !== null).map((c) => ({ clockId: c.id, threshold: c.nextThreshold!, dueAt: c.nextDueAt! }));
  }

  /**
   * Mirrors the case-level clocks on the case for reporting (docs/reporting.md): the latest due times
   * (kept while a clock is paused or stopped) and whether any breached. Written before the change
   * that sets acknowledged_at / resolved_at, in its transaction, because reporting counts the outcome then.
   */
  async mirrorOnCases(m: EntityManager, caseIds: string[]): Promise<void> {
    if (!caseIds.length) return;
    await m.query(`${MIRROR_SET} WHERE c.id = ANY($1::uuid[])`, [caseIds]);
  }

  /** Pauses a case's running clocks (waiting on a customer or supplier): business time stops counting. */
  async pause(m: EntityManager, caseId: string, now = this.now()): Promise<Alarm[]> {
    const clocks = (await this.lockedClocks(m, caseId)).filter((c) => c.status === 'running');
    if (!clocks.length) return [];
    await m.query(
      `UPDATE sla_clocks s SET status = 'paused', consumed_ms = u.consumed, segment_started_at = NULL, due_at = NULL, next_due_at = NULL
         FROM unnest($1::uuid[], $2::bigint[]) AS u(id, consumed) WHERE s.id = u.id`,
      [clocks.map((c) => c.id), clocks.map((c) => String(this.consumed(c, now)))],
    );
    return clocks.filter((c) => c.nextThreshold !== null).map((c) => ({ clockId: c.id, threshold: c.nextThreshold!, dueAt: c.nextDueAt! }));
  }

  /** Resumes paused clocks with the business time they had left; returns their new alarms. */
  async resume(m: EntityManager, caseId: string, now = this.now()): Promise<Alarm[]> {
    const clocks = (await this.lockedClocks(m, caseId)).filter((c) => c.status === 'paused');
    if (!clocks.length) return [];
    const next = clocks.map((c) => {
      c.status = 'running';
      c.segmentStartedAt = now;
      return this.schedule(c, now);
    });
    await m.query(
      `UPDATE sla_clocks s SET status = 'running', segment_started_at = $2, due_at = u.due_at, next_threshold = u.next_threshold, next_due_at = u.next_due_at
         FROM unnest($1::uuid[], $3::timestamptz[], $4::int[], $5::timestamptz[]) AS u(id, due_at, next_threshold, next_due_at) WHERE s.id = u.id`,
      [clocks.map((c) => c.id), now, next.map((n) => n.dueAt), next.map((n) => n.nextThreshold), next.map((n) => n.nextDueAt)],
    );
    await this.mirrorOnCases(m, [caseId]);
    return clocks.flatMap((c, i) => (next[i].nextThreshold !== null ? [{ clockId: c.id, threshold: next[i].nextThreshold!, dueAt: next[i].nextDueAt! }] : []));
  }

  /**
   * The alarm for `threshold` of a clock rang. Fires every threshold reached by now (catching up
   * after downtime), records each as audit + outbox event + case change, and returns the next alarm.
   * Safe to run twice: a stopped, paused or already-advanced clock makes it a no-op.
   */
  async fire(clockId: string, threshold: number): Promise<FireResult> {
    return this.ds.transaction(async (m) => {
      const ref = await m.findOne(SlaClockRecord, { where: { id: clockId } });
      if (!ref) return { stale: true };
      // Case first, then clock: the same lock order as case desk changes.
      const kase = await m.findOne(CaseRecord, { where: { id: ref.caseId }, lock: { mode: 'pessimistic_write' } });
      const c = await m.findOne(SlaClockRecord, { where: { id: clockId }, lock: { mode: 'pessimistic_write' } });
      if (!kase || !c || c.status !== 'running' || c.nextThreshold !== threshold) return { stale: true };
      const now = this.now();
      const elapsed = this.consumed(c, now);
      if (elapsed < need(c, threshold)) return { early: { clockId, threshold, dueAt: c.nextDueAt ?? now } };
      const done = new Set(c.fired.map(key));
      const reached = c.thresholds.filter((t) => !done.has(key(t)) && elapsed >= need(c, t.at));
      const fired: FiredThreshold[] = reached.map((t) => ({ ...t, firedAt: now.toISOString() }));
      c.fired = [...c.fired, ...fired];
      if (fired.some((f) => f.kind === 'breach')) c.breachedAt = now;
      const s = this.schedule(c, now);
      await m.update(SlaClockRecord, { id: c.id }, { fired: c.fired, breachedAt: c.breachedAt, ...s });
      if (c.breachedAt) await this.mirrorOnCases(m, [c.caseId]);
      await this.record(m, kase, c, fired);
      return { fired, next: s.nextThreshold === null ? null : { clockId, threshold: s.nextThreshold, dueAt: s.nextDueAt! } };
    });
  }

  /** Audit entries, outbox events and case changes for fired thresholds. */
  private async record(m: EntityManager, kase: CaseRecord, c: SlaClockRecord, fired: FiredThreshold[]) {
    const audit: AuditEntry[] = [];
    const events: NewEvent[] = [];
    const clock = { id: c.id, kind: c.kind, taskId: c.taskId, sla: c.slaId, dueAt: this.dueAt(c)?.toISOString() ?? null };
    const facets = () => ({ team: kase.ownerTeam, code: kase.code, severity: kase.severity, site: kase.site, businessUnit: kase.businessUnit });
    // The audit trail names the rule and policy version whose SLA fired.
    const cause = { rule: kase.routing?.ruleId ?? null, policy: kase.routing?.policy ?? null };
    for (const f of fired) {
      if (f.kind === 'warning' || f.kind === 'breach') {
        const type = f.kind === 'warning' ? 'sla.warning' : 'sla.breached';
        audit.push({ actor: SYSTEM_ACTOR, entityType: 'case', entityId: kase.id, action: type, after: { clock, at: f.at, cause } });
        events.push({ type, caseId: kase.id, entityType: 'case', entityId: kase.id, facets: facets(), payload: { caseId: kase.id, clock, at: f.at } });
        continue;
      }
      const before = { escalationLevel: kase.escalationLevel, ownerTeam: kase.ownerTeam, extraTeams: kase.extraTeams };
      const level = Math.max(kase.escalationLevel, f.level ?? 1);
      let { ownerTeam, extraTeams } = kase;
      if (f.to && f.to !== 'team-lead') {
        if (f.reassign && f.to !== ownerTeam) {
          extraTeams = [...new Set([...extraTeams, ownerTeam])];
          ownerTeam = f.to;
        } else if (f.to !== ownerTeam) {
          extraTeams = [...new Set([...extraTeams, f.to])];
        }
      }
      Object.assign(kase, { escalationLevel: level, ownerTeam, extraTeams, updatedAt: this.now() });
      await m.update(CaseRecord, { id: kase.id }, { escalationLevel: level, ownerTeam, extraTeams, updatedAt: kase.updatedAt });
      // A team-lead escalation names the lead the owner team declares in the policy that timed the clock.
      const lead = f.to === 'team-lead' ? (this.router.policyOfScope(c.policyScope).teams.find((t) => t.id === ownerTeam)?.lead ?? null) : undefined;
      const after = { escalationLevel: level, ownerTeam, extraTeams, to: f.to, at: f.at, clock, ...(lead !== undefined ? { lead } : {}) };
      audit.push({ actor: SYSTEM_ACTOR, entityType: 'case', entityId: kase.id, action: 'case.escalated', before, after: { ...after, cause } });
      events.push({ type: 'case.escalated', caseId: kase.id, entityType: 'case', entityId: kase.id, facets: facets(), payload: { caseId: kase.id, level: f.level, to: f.to, at: f.at, clock, before, after } });
    }
    await writeJointly(m, [this.audit.part(audit), this.events.part(events)]);
  }

  /** A case's clocks with status, due time and what fired (GET /v1/cases/{id}/slas). */
  async forCase(caseId: string) {
    const now = this.now();
    const rows = await this.ds.getRepository(SlaClockRecord).find({ where: { caseId }, order: { startedAt: 'ASC', kind: 'ASC' } });
    return rows.map((c) => {
      const elapsed = this.consumed(c, now);
      const target = Number(c.targetMs);
      return {
        id: c.id, kind: c.kind, taskId: c.taskId, sla: c.slaId, calendar: c.calendarId, scope: c.policyScope, status: c.status, basis: c.basis,
        startedAt: c.startedAt, dueAt: this.dueAt(c), targetMs: target, elapsedMs: elapsed,
        percent: target > 0 ? Math.round((elapsed / target) * 1000) / 10 : 100,
        breached: c.breachedAt !== null || (c.status !== 'running' && elapsed > target),
        breachedAt: c.breachedAt, nextThreshold: c.nextThreshold, nextDueAt: c.nextDueAt, history: c.fired,
        stoppedAt: c.stoppedAt, outcome: c.outcome,
      };
    });
  }

  /** Running clocks' alarms in id order, for re-arming after a restart or a Redis flush. */
  async alarms(opts: { after?: string; limit: number; overdueBefore?: Date }): Promise<Alarm[]> {
    const rows: { id: string; next_threshold: number; next_due_at: Date }[] = await this.ds.query(
      `SELECT id, next_threshold, next_due_at FROM sla_clocks
        WHERE status = 'running' AND next_threshold IS NOT NULL AND ($1::uuid IS NULL OR id > $1) AND ($3::timestamptz IS NULL OR next_due_at < $3)
        ORDER BY id LIMIT $2`,
      [opts.after ?? null, opts.limit, opts.overdueBefore ?? null],
    );
    return rows.map((r) => ({ clockId: r.id, threshold: r.next_threshold, dueAt: new Date(r.next_due_at) }));
  }

  /** The cases' clocks, locked in id order (the same order whichever cases a caller passes). */
  private lockedClocks(m: EntityManager, cases: string | string[]) {
    const ids = typeof cases === 'string' ? [cases] : cases;
    if (!ids.length) return Promise.resolve([]);
    return m.find(SlaClockRecord, { where: { caseId: In(ids) }, lock: { mode: 'pessimistic_write' }, order: { id: 'ASC' } });
  }

  /** Business time used so far. */
  private consumed(c: SlaClockRecord, now: Date): number {
    const base = Number(c.consumedMs);
    return c.status === 'running' && c.segmentStartedAt ? base + this.calendar(c.calendarId, c.policyScope).between(c.segmentStartedAt, now) : base;
  }

  /** When the target is reached if the clock keeps running. */
  private dueAt(c: SlaClockRecord): Date | null {
    if (c.status !== 'running' || !c.segmentStartedAt) return null;
    return this.calendar(c.calendarId, c.policyScope).add(c.segmentStartedAt, Math.max(0, Number(c.targetMs) - Number(c.consumedMs)));
  }

  /** Next unfired threshold and when it is reached, for a running clock. */
  private schedule(c: SlaClockRecord, now: Date): { dueAt: Date | null; nextThreshold: number | null; nextDueAt: Date | null } {
    const done = new Set(c.fired.map(key));
    const next = c.thresholds.find((t) => !done.has(key(t)));
    const dueAt = this.dueAt(c);
    if (!next || !c.segmentStartedAt) return { dueAt, nextThreshold: null, nextDueAt: null };
    const left = need(c, next.at) - Number(c.consumedMs);
    const at = left <= 0 ? now : this.calendar(c.calendarId, c.policyScope).add(c.segmentStartedAt, left);
    return { dueAt, nextThreshold: next.at, nextDueAt: at };
  }
}

/**
 * The mirror of a case's clocks on the case (latest due time per kind, kept while no clock says
 * otherwise; breached once any case-level clock breached); `start` runs it with its new clocks added.
 * New clocks never breached, so `sla_breached` reads the table alone.
 */
const MIRROR_SET = `UPDATE cases c
          SET ack_due_at = coalesce((SELECT k.due_at FROM sla_clocks k WHERE k.case_id = c.id AND k.task_id IS NULL AND k.kind = 'acknowledge' ORDER BY k.started_at DESC LIMIT 1), c.ack_due_at),
              resolve_due_at = coalesce((SELECT k.due_at FROM sla_clocks k WHERE k.case_id = c.id AND k.task_id IS NULL AND k.kind = 'resolve' ORDER BY k.started_at DESC LIMIT 1), c.resolve_due_at),
              sla_breached = CASE WHEN EXISTS (SELECT 1 FROM sla_clocks b WHERE b.case_id = c.id AND b.task_id IS NULL AND (b.breached_at IS NOT NULL OR b.outcome = 'breached'))
                                  THEN true ELSE c.sla_breached END`;

/** Business time at which a percentage of the target is reached (whole ms, rounded up). */
function need(c: SlaClockRecord, at: number): number {
  return Math.ceil((Number(c.targetMs) * at) / 100);
}

const key = (t: { at: number; kind: string; to?: string }) => `${t.at}:${t.kind}:${t.to ?? ''}`;
