import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Actor, AuditEntry } from '../audit/audit-trail.service.js';
import { CaseActions } from '../actions/case-actions.service.js';
import type { CanonicalException } from '../canonical/exception.schema.js';
import type { NewEvent } from '../delivery/event-feed.service.js';
import type { RoutingDecision } from '../routing/router.service.js';
import { Router, scopeOf } from '../routing/router.service.js';
import type { SlaDefinitionSpec } from '../routing/rule-outputs.js';
import type { WritePart } from '../database/joint-write.js';
import { CaseTasks, describe } from './case-tasks.service.js';
import { SlaClocks, type Alarm } from './sla-clocks.service.js';
import { planClocks, slaFor, type CaseImpact } from './sla-plan.js';
import { SlaTimers } from './sla-timers.js';

/** A case just opened by the pipeline, with the routing decision and exception that opened it. */
export interface OpenedCase {
  id: string;
  team: string;
  /** The case's title and severity as opened (what its actions' records say about it). */
  title?: string;
  severity?: string;
  opener?: { exception: CanonicalException; decision: RoutingDecision };
  /** A re-opened case: its re-open count (the round its actions are planned for). */
  round?: number;
}

/** The case facts SLA targets depend on, from the exception that opened (or re-opened) the case. */
export function impactOf(e: CanonicalException, d: RoutingDecision): CaseImpact {
  return { severity: d.severity, customerTier: e.customerTier ?? null, amountAtRisk: e.amountAtRisk?.amount ?? null, orderValue: e.orderValue?.amount ?? null, attributes: e.attributes };
}

/** Work to do once the transaction has committed: alarms to set or remove, actions to enqueue. */
export interface AfterCommit {
  arm: Alarm[];
  disarm: Alarm[];
  actions: string[];
  audit: AuditEntry[];
  events: NewEvent[];
}

/** What `opened` / `reopened` leave to the caller with `defer`: writes to make in its transaction, with its own. */
export type Deferred = AfterCommit & { writes: WritePart[] };

const empty = (): AfterCommit => ({ arm: [], disarm: [], actions: [], audit: [], events: [] });

/** Several pieces of after-commit work as one (e.g. for a batch's new cases and for the cases it cleared). */
export function combine(...parts: (AfterCommit | undefined)[]): AfterCommit {
  const out = empty();
  for (const p of parts) {
    if (!p) continue;
    out.arm.push(...p.arm);
    out.disarm.push(...p.disarm);
    out.actions.push(...p.actions);
    out.audit.push(...p.audit);
    out.events.push(...p.events);
  }
  return out;
}

/**
 * What a case commits the hub to: SLA clocks, parallel tasks and actions. Called inside the
 * transactions that open and change cases (ExceptionRecording, case desk); `settle()` runs after commit.
 */
@Injectable()
export class CaseCommitments {
  constructor(
    private readonly router: Router,
    private readonly clocks: SlaClocks,
    private readonly tasks: CaseTasks,
    private readonly actions: CaseActions,
    private readonly timers: SlaTimers,
  ) {}

  /** Clocks (rule SLA or the policy's default for the severity), tasks with their clocks, and actions for new cases. */
  async opened(m: EntityManager, cases: OpenedCase[], defer = false): Promise<Deferred> {
    return this.commit(m, cases, false, defer);
  }

  /**
   * Cases re-opened by a recurrence of their cause: fresh acknowledge / resolve clocks from the
   * re-opening exception's decision (its policy scope, SLA and impact), as if the case opened now; the
   * clocks of the earlier round stay stopped with their outcome. The rule's tasks come back: one done
   * in the earlier round opens again, one still open stays open, a new one opens; each gets a fresh
   * clock. The rule's actions run again for the new round, under keys of that round (a fulfilment
   * paused at opening and resumed at the resolve is paused again; the team is notified again).
   */
  async reopened(m: EntityManager, cases: OpenedCase[], defer = false): Promise<Deferred> {
    return this.commit(m, cases, true, defer);
  }

  /**
   * `defer`: the new clocks are not written here but returned in `writes`, for a caller that writes
   * them with its own end writes in one statement and reads no clock of these cases before that.
   */
  private async commit(m: EntityManager, cases: OpenedCase[], reopen: boolean, defer: boolean): Promise<Deferred> {
    const out: Deferred = { ...empty(), writes: [] };
    const now = this.clocks.now();
    const starts: Parameters<SlaClocks['start']>[1] = [];
    const work = cases.filter((c) => c.opener).map((c) => {
      const { exception: e, decision: d } = c.opener!;
      // The SLA, task SLAs and calendars of the policy that decided: a site / business-unit overlay's own.
      const scope = scopeOf(d);
      const policy = this.router.policyOfScope(scope);
      const plan = (sla: SlaDefinitionSpec) => planClocks(sla, this.clocks.calendar(sla.calendar, scope), impactOf(e, d), now).map((p) => ({ ...p, scope }));
      const facets = { team: c.team, code: e.code, severity: d.severity, site: e.site ?? null, businessUnit: e.businessUnit ?? null };
      return { c, e, d, policy, plan, facets };
    });
    if (reopen) out.disarm.push(...(await this.clocks.stop(m, work.map((w) => w.c.id), {}, 'cancelled', now)));
    for (const { c, d, policy, plan } of work) {
      const sla = slaFor(policy, d.sla, d.severity);
      if (sla) for (const p of plan(sla)) starts.push({ caseId: c.id, plan: p });
    }
    // New cases' tasks in one INSERT for the batch; a re-opened case's are read and re-opened per case (rare).
    const withTasks = work.filter((w) => w.d.tasks.length);
    const opened = reopen ? [] : await this.tasks.openMany(m, withTasks.map((w) => ({ caseId: w.c.id, ruleId: w.d.ruleId, specs: w.d.tasks, facets: w.facets })), now);
    for (const [i, { c, d, policy, plan, facets }] of withTasks.entries()) {
      const t = reopen ? await this.tasks.reopen(m, c.id, d.ruleId, d.tasks, facets, now) : opened[i];
      out.audit.push(...t.audit);
      out.events.push(...t.events);
      t.rows.forEach((row, k) => {
        const spec = d.tasks[k];
        const tsla = spec.sla ? policy.slas.find((s) => s.id === spec.sla) : undefined;
        if (!tsla || row.status !== 'open') return;
        const plans = plan(tsla);
        starts.push({ caseId: c.id, taskId: row.id, plan: plans.find((p) => p.kind === 'resolve') ?? plans[0] });
      });
    }
    const planned = await this.actions.plan(
      m,
      work
        .filter((w) => w.d.ruleId && w.d.actions.length)
        .map(({ c, e, d }) => ({
          caseId: c.id, ruleId: d.ruleId!, specs: d.actions, opener: e, round: reopen ? c.round : undefined,
          kase: { title: c.title ?? e.title, severity: c.severity ?? d.severity, code: e.code, ownerTeam: c.team, site: e.site ?? null, businessUnit: e.businessUnit ?? null, policy: d.policy },
        })),
      now,
    );
    out.actions.push(...planned.enqueue);
    out.audit.push(...planned.audit);
    out.events.push(...planned.events);
    if (defer) {
      const { write, alarms } = this.clocks.startWrite(starts, now);
      if (write) out.writes.push(write);
      out.arm.push(...alarms);
    } else out.arm.push(...(await this.clocks.start(m, starts, now)));
    return out;
  }

  /** Acknowledged: acknowledge clocks stop (met or breached). */
  async acknowledged(m: EntityManager, caseId: string): Promise<AfterCommit> {
    return { ...empty(), disarm: await this.clocks.stop(m, caseId, { kinds: ['acknowledge'], caseClocksOnly: true }) };
  }

  /** Resolving is refused while required tasks are open; then every clock stops (open optional tasks' clocks are cancelled). */
  async resolving(m: EntityManager, caseId: string): Promise<AfterCommit> {
    const open = await this.tasks.openRequired(m, caseId);
    if (open.length) throw new ConflictException(`case has ${open.length} open required task(s): ${open.map((t) => `${t.specId} (${t.team})`).join(', ')}; complete them first`);
    const disarm = await this.clocks.stop(m, caseId, { caseClocksOnly: true });
    disarm.push(...(await this.clocks.stop(m, caseId, {}, 'cancelled')));
    return { ...empty(), disarm, actions: await this.actions.release(m, [caseId]) };
  }

  /**
   * Cases the hub resolved because their condition cleared (a later exception's `clears`, a corrective
   * document, the connector back up): clocks stop, open tasks' clocks are cancelled, `on-resolve` actions
   * run. Unlike `resolving`, open required tasks do not hold it back: the condition is gone.
   */
  async cleared(m: EntityManager, caseIds: string[]): Promise<AfterCommit> {
    const out = empty();
    out.disarm.push(...(await this.clocks.stop(m, caseIds, { caseClocksOnly: true })));
    out.disarm.push(...(await this.clocks.stop(m, caseIds, {}, 'cancelled')));
    out.actions.push(...(await this.actions.release(m, caseIds)));
    return out;
  }

  /** Pauses every running clock of the case (waiting on a customer or supplier). */
  async paused(m: EntityManager, caseId: string): Promise<AfterCommit> {
    return { ...empty(), disarm: await this.clocks.pause(m, caseId) };
  }

  async resumed(m: EntityManager, caseId: string): Promise<AfterCommit> {
    return { ...empty(), arm: await this.clocks.resume(m, caseId) };
  }

  /** Completes a task and stops its clock; `lastRequired` tells the caller to resolve the case. */
  async completeTask(m: EntityManager, caseId: string, taskId: string, actor: Actor, note?: string) {
    const r = await this.tasks.complete(m, caseId, taskId, actor, note, this.clocks.now());
    if ('missing' in r) throw new NotFoundException(`case ${caseId} has no task ${taskId}`);
    if ('already' in r && r.already) throw new ConflictException(`task ${r.already.specId} is already done`);
    if (!('task' in r) || !r.task) throw new NotFoundException(`case ${caseId} has no task ${taskId}`);
    const disarm = await this.clocks.stop(m, caseId, { taskId });
    return { task: describe(r.task), lastRequired: r.task.required && r.openRequired.length === 0, after: { ...empty(), disarm } };
  }

  /** After commit: alarms and action jobs. Never throws: the scheduler repairs what could not be set. */
  async settle(a: AfterCommit | undefined): Promise<void> {
    if (!a) return;
    // Alarms and actions are on different queues: one wait instead of two. Alarms are removed before
    // they are set (a clock paused and resumed in one transaction keeps its alarm's job id).
    await Promise.all([this.timers.disarm(a.disarm).then(() => this.timers.arm(a.arm)), this.actions.enqueue(a.actions)]);
  }
}
