import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import type { Actor, AuditEntry } from '../audit/audit-trail.service.js';
import { SYSTEM_ACTOR } from '../audit/audit-trail.service.js';
import type { NewEvent } from '../delivery/event-feed.service.js';
import type { TaskSpec } from '../routing/rule-outputs.js';
import { CaseTaskRecord } from './case-task.entity.js';

export interface CaseFacets {
  team: string;
  code: string;
  severity: string;
  site: string | null;
  businessUnit: string | null;
}

/** One case's rule tasks to open. */
export interface TasksToOpen {
  caseId: string;
  ruleId: string | null;
  specs: TaskSpec[];
  facets: CaseFacets;
}

/** Rows per INSERT: 12 columns each stay far below PostgreSQL's 65,535 parameters. */
const INSERT_CHUNK = 1000;

/** Parallel tasks of cases: several teams working one case, each task with its own status and SLA. */
@Injectable()
export class CaseTasks {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Opens a rule's tasks on a new case; returns the rows plus their audit entries and events. */
  async open(m: EntityManager, caseId: string, ruleId: string | null, specs: TaskSpec[], facets: CaseFacets, now: Date) {
    return (await this.openMany(m, [{ caseId, ruleId, specs, facets }], now))[0];
  }

  /** `open` for many new cases (a pipeline batch's) in one INSERT per 1,000 tasks, not one per case; results in `items` order. */
  async openMany(m: EntityManager, items: TasksToOpen[], now: Date) {
    const out = items.map(({ caseId, ruleId, specs, facets }) => {
      const rows = specs.map((t) =>
        Object.assign(new CaseTaskRecord(), {
          id: uuidv7(), caseId, specId: t.id, team: t.team, title: t.title, required: t.required, status: 'open', ruleId,
          openedAt: now, completedAt: null, completedBy: null, note: null,
        }),
      );
      const audit: AuditEntry[] = rows.map((r) => ({ actor: SYSTEM_ACTOR, entityType: 'case', entityId: caseId, action: 'case.task.opened', after: describe(r) }));
      const events: NewEvent[] = rows.map((r) => ({ type: 'case.task.opened', caseId, entityType: 'case', entityId: caseId, facets: { ...facets, team: r.team }, payload: { caseId, task: describe(r) } }));
      return { rows, audit, events };
    });
    const all = out.flatMap((o) => o.rows);
    for (let i = 0; i < all.length; i += INSERT_CHUNK) {
      await m.createQueryBuilder().insert().into(CaseTaskRecord).values(all.slice(i, i + INSERT_CHUNK)).orIgnore().updateEntity(false).execute();
    }
    return out;
  }

  /**
   * A re-opened case's tasks for its re-opening rule, in `specs` order: a task done in the earlier round
   * opens again (`case.task.reopened`), one still open stays as it is, one the case never had opens.
   */
  async reopen(m: EntityManager, caseId: string, ruleId: string | null, specs: TaskSpec[], facets: CaseFacets, now: Date) {
    const existing = new Map((await m.find(CaseTaskRecord, { where: { caseId }, lock: { mode: 'pessimistic_write' } })).map((t) => [t.specId, t]));
    const fresh = await this.open(m, caseId, ruleId, specs.filter((s) => !existing.has(s.id)), facets, now);
    const again = specs.map((s) => existing.get(s.id)).filter((t): t is CaseTaskRecord => t?.status === 'done');
    for (const t of again) {
      await m.update(CaseTaskRecord, { id: t.id }, { status: 'open', completedAt: null, completedBy: null, note: null, openedAt: now });
      Object.assign(t, { status: 'open', completedAt: null, completedBy: null, note: null, openedAt: now });
    }
    const byspec = new Map([...existing, ...fresh.rows.map((r) => [r.specId, r] as const)]);
    const audit: AuditEntry[] = [
      ...fresh.audit,
      ...again.map((r): AuditEntry => ({ actor: SYSTEM_ACTOR, entityType: 'case', entityId: caseId, action: 'case.task.reopened', after: describe(r) })),
    ];
    const events: NewEvent[] = [
      ...fresh.events,
      ...again.map((r): NewEvent => ({ type: 'case.task.reopened', caseId, entityType: 'case', entityId: caseId, facets: { ...facets, team: r.team }, payload: { caseId, task: describe(r) } })),
    ];
    return { rows: specs.map((s) => byspec.get(s.id)!), audit, events };
  }

  /** Marks a task done (locked; 409-worthy states are returned for the caller to phrase). */
  async complete(m: EntityManager, caseId: string, taskId: string, actor: Actor, note: string | undefined, now: Date) {
    const t = await m.findOne(CaseTaskRecord, { where: { id: taskId, caseId }, lock: { mode: 'pessimistic_write' } });
    if (!t) return { missing: true as const };
    if (t.status === 'done') return { already: t as CaseTaskRecord };
    await m.update(CaseTaskRecord, { id: t.id }, { status: 'done', completedAt: now, completedBy: `${actor.type}:${actor.id}`.slice(0, 128), note: note ?? null });
    Object.assign(t, { status: 'done', completedAt: now, completedBy: `${actor.type}:${actor.id}`.slice(0, 128), note: note ?? null });
    return { task: t, openRequired: await this.openRequired(m, caseId) };
  }

  openRequired(m: EntityManager, caseId: string): Promise<CaseTaskRecord[]> {
    return m.find(CaseTaskRecord, { where: { caseId, required: true, status: 'open' }, order: { openedAt: 'ASC', specId: 'ASC' } });
  }

  forCase(caseId: string) {
    return this.ds.getRepository(CaseTaskRecord).find({ where: { caseId }, order: { openedAt: 'ASC', specId: 'ASC' } });
  }
}

export function describe(t: CaseTaskRecord) {
  return { id: t.id, task: t.specId, team: t.team, title: t.title, required: t.required, status: t.status, completedAt: t.completedAt, completedBy: t.completedBy, note: t.note };
}
