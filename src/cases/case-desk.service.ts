import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditTrail, SYSTEM_ACTOR, type Actor } from '../audit/audit-trail.service.js';
import type { RootCause } from '../canonical/taxonomy.js';
import { EventFeed } from '../delivery/event-feed.service.js';
import { Router } from '../routing/router.service.js';
import { CaseActions } from '../actions/case-actions.service.js';
import { CaseCommitments, type AfterCommit } from '../sla/case-commitments.service.js';
import { CaseTasks, describe as describeTask } from '../sla/case-tasks.service.js';
import { SlaClocks } from '../sla/sla-clocks.service.js';
import { CaseRecord, type CaseStatus } from './case.entity.js';
import { ExceptionRecord } from './exception.entity.js';
import { writeJointly } from '../database/joint-write.js';

export interface CaseFilter {
  status?: CaseStatus;
  team?: string;
  code?: string;
  severity?: string;
  site?: string;
  businessUnit?: string;
  correlationKey?: string;
  after?: string;
  limit: number;
}

/** What people do with cases: find, read, acknowledge, assign, comment, resolve (and the hub's own clears). Every change is audited. */
@Injectable()
export class CaseDesk {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditTrail,
    private readonly router: Router,
    private readonly events: EventFeed,
    private readonly commitments: CaseCommitments,
    private readonly clocks: SlaClocks,
    private readonly tasks: CaseTasks,
    private readonly actions: CaseActions,
  ) {}

  async list(f: CaseFilter): Promise<{ items: CaseRecord[]; nextCursor: string | null }> {
    const qb = this.ds.getRepository(CaseRecord).createQueryBuilder('c').orderBy('c.id', 'DESC').limit(f.limit);
    const eq = { status: 'status', team: 'ownerTeam', code: 'code', severity: 'severity', site: 'site', businessUnit: 'businessUnit', correlationKey: 'correlationKey' } as const;
    for (const [key, col] of Object.entries(eq)) {
      const v = f[key as keyof typeof eq];
      if (v !== undefined) qb.andWhere(`c.${col} = :${key}`, { [key]: v });
    }
    // Case ids are UUIDv7, so id order is opening order and a stable cursor.
    if (f.after) qb.andWhere('c.id < :after', { after: f.after });
    const items = await qb.getMany();
    return { items, nextCursor: items.length === f.limit ? items[items.length - 1].id : null };
  }

  async get(id: string) {
    const c = await this.ds.getRepository(CaseRecord).findOne({ where: { id } });
    if (!c) throw new NotFoundException(`no case ${id}`);
    const [exceptions, timeline, slas, tasks, actions] = await Promise.all([
      this.ds.getRepository(ExceptionRecord).find({ where: { caseId: id }, order: { detectedAt: 'ASC' } }),
      this.audit.forEntity('case', id),
      this.clocks.forCase(id),
      this.tasks.forCase(id),
      this.actions.forCase(id),
    ]);
    return { ...c, exceptions: exceptions.map((e) => ({ id: e.id, messageId: e.messageId, ...e.payload })), slas, tasks: tasks.map(describeTask), actions, timeline };
  }

  acknowledge(id: string, actor: Actor) {
    return this.change(id, actor, 'case.acknowledged', (c) => {
      if (c.status !== 'open') throw new ConflictException(`case is ${c.status}; only open cases can be acknowledged`);
      return { status: 'acknowledged', acknowledgedAt: new Date() };
    }, {}, (m) => this.commitments.acknowledged(m, id));
  }

  /** Waiting on a customer or supplier: SLA clocks stop counting until resumed. */
  pause(id: string, actor: Actor, waitingOn: string, note?: string) {
    return this.change(id, actor, 'case.paused', (c) => {
      if (c.status === 'resolved') throw new ConflictException('case is resolved; there is nothing to pause');
      return {};
    }, { waitingOn, ...(note ? { note } : {}) }, (m) => this.commitments.paused(m, id));
  }

  resume(id: string, actor: Actor, note?: string) {
    return this.change(id, actor, 'case.resumed', (c) => {
      if (c.status === 'resolved') throw new ConflictException('case is resolved; there is nothing to resume');
      return {};
    }, note ? { note } : {}, (m) => this.commitments.resumed(m, id));
  }

  /**
   * Completes a task (its SLA clock stops). Completing the last open required task resolves the case,
   * with the root cause given here (if any) and a note saying so.
   */
  async completeTask(id: string, taskId: string, actor: Actor, body: { note?: string; rootCause?: RootCause }) {
    let task: ReturnType<typeof describeTask> | undefined;
    let resolves = false;
    const updated = await this.change(id, actor, 'case.task.completed', (c) => {
      if (c.status === 'resolved') throw new ConflictException('case is resolved; its tasks are closed');
      return {};
    }, {}, async (m, c) => {
      const r = await this.commitments.completeTask(m, id, taskId, actor, body.note);
      task = r.task;
      resolves = r.lastRequired;
      if (!resolves) return { after: r.after, extra: { task: r.task } };
      const more = await this.commitments.resolving(m, id);
      const patch = { status: 'resolved' as const, resolvedAt: new Date(), rootCause: body.rootCause ?? null, resolutionNote: 'all required tasks done', acknowledgedAt: c.acknowledgedAt ?? new Date() };
      return { after: { ...r.after, disarm: [...r.after.disarm, ...more.disarm], actions: [...r.after.actions, ...more.actions] }, extra: { task: r.task, resolved: true }, patch };
    });
    return { task, caseResolved: resolves, case: updated };
  }

  assign(id: string, actor: Actor, to: { assignee?: string | null; team?: string }) {
    return this.change(id, actor, 'case.assigned', (c) => {
      if (c.status === 'resolved') throw new ConflictException('case is resolved; it cannot be reassigned');
      if (to.team && !this.router.teamIds().has(to.team)) {
        throw new BadRequestException(`team ${to.team} is not declared in routing policy ${this.router.current().id}`);
      }
      return { ...(to.assignee !== undefined ? { assignee: to.assignee } : {}), ...(to.team ? { ownerTeam: to.team } : {}) };
    });
  }

  comment(id: string, actor: Actor, text: string) {
    return this.change(id, actor, 'case.commented', () => ({}), { comment: text });
  }

  resolve(id: string, actor: Actor, rootCause: RootCause, note?: string) {
    return this.change(id, actor, 'case.resolved', resolvedBy(rootCause, note), {}, (m) => this.commitments.resolving(m, id));
  }

  /**
   * The hub resolves a case whose condition cleared (a corrective document, the connector polling again),
   * audited and published like a resolve. As with a rule's `clears`, open required tasks do not hold it
   * back (CaseCommitments.cleared). Inside the caller's transaction: returns what to settle after its commit.
   */
  async clearWithin(m: EntityManager, id: string, rootCause: RootCause, note: string, extra: Record<string, unknown> = {}): Promise<AfterCommit | undefined> {
    return (await this.changeWithin(m, id, SYSTEM_ACTOR, 'case.resolved', resolvedBy(rootCause, note), extra, (tx) => this.commitments.cleared(tx, [id]))).committed;
  }

  /** The same in a transaction of its own, settled after commit. */
  clear(id: string, rootCause: RootCause, note: string, extra: Record<string, unknown> = {}): Promise<CaseRecord> {
    return this.change(id, SYSTEM_ACTOR, 'case.resolved', resolvedBy(rootCause, note), extra, (m) => this.commitments.cleared(m, [id]));
  }

  private async change(
    id: string,
    actor: Actor,
    action: string,
    next: (c: CaseRecord) => Partial<CaseRecord>,
    extra: Record<string, unknown> = {},
    hook?: CommitmentHook,
  ): Promise<CaseRecord> {
    const { updated, committed } = await this.ds.transaction((m: EntityManager) => this.changeWithin(m, id, actor, action, next, extra, hook));
    await this.commitments.settle(committed);
    return updated;
  }

  private async changeWithin(
    m: EntityManager,
    id: string,
    actor: Actor,
    action: string,
    next: (c: CaseRecord) => Partial<CaseRecord>,
    extra: Record<string, unknown> = {},
    // SLA clocks, tasks (src/sla) change in the same transaction; alarms are set after commit.
    hook?: CommitmentHook,
  ): Promise<{ updated: CaseRecord; committed: AfterCommit | undefined }> {
    let committed: AfterCommit | undefined;
    const c = await m.findOne(CaseRecord, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!c) throw new NotFoundException(`no case ${id}`);
    let patch: Partial<CaseRecord> = { ...next(c), updatedAt: new Date() };
    const h = hook ? await hook(m, c) : undefined;
    if (h && 'after' in h) {
      committed = h.after;
      extra = { ...extra, ...h.extra };
      if (h.patch) {
        patch = { ...patch, ...h.patch };
        action = 'case.resolved';
      }
    } else committed = h;
    const before = Object.fromEntries(Object.keys(patch).filter((k) => k !== 'updatedAt').map((k) => [k, c[k as keyof CaseRecord]]));
    await m.update(CaseRecord, { id }, patch);
    const after = Object.fromEntries(Object.entries(patch).filter(([k]) => k !== 'updatedAt'));
    const updated = Object.assign(c, patch);
    const audit = this.audit.part([{ actor, entityType: 'case', entityId: id, action, before, after: { ...after, ...extra } }]);
    const events = this.events.part([
      {
        type: action === 'case.resolved' ? 'case.resolved' : 'case.updated',
        caseId: id,
        entityType: 'case',
        entityId: id,
        facets: { team: updated.ownerTeam, code: updated.code, severity: updated.severity, site: updated.site, businessUnit: updated.businessUnit },
        payload: { case: updated, change: { action, by: actor, before, after: { ...after, ...extra } } },
      },
    ]);
    await writeJointly(m, [audit, events]);
    return { updated, committed };
  }

}

type CommitmentHook = (m: EntityManager, c: CaseRecord) => Promise<AfterCommit | { after: AfterCommit; extra?: Record<string, unknown>; patch?: Partial<CaseRecord> }>;

function resolvedBy(rootCause: RootCause, note?: string) {
  return (c: CaseRecord): Partial<CaseRecord> => {
    if (c.status === 'resolved') throw new ConflictException('case is already resolved');
    return { status: 'resolved', resolvedAt: new Date(), rootCause, resolutionNote: note ?? null, acknowledgedAt: c.acknowledgedAt ?? new Date() };
  };
}
