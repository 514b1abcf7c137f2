import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditTrail, type Actor } from '../audit/audit-trail.service.js';
import type { RootCause } from '../canonical/taxonomy.js';
import { EventFeed } from '../delivery/event-feed.service.js';
import { Router } from '../routing/router.service.js';
import { CaseRecord, type CaseStatus } from './case.entity.js';
import { ExceptionRecord } from './exception.entity.js';

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

/** What people do with cases: find, read, acknowledge, assign, comment, resolve. Every change is audited. */
@Injectable()
export class CaseDesk {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditTrail,
    private readonly router: Router,
    private readonly events: EventFeed,
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
    const [exceptions, timeline] = await Promise.all([
      this.ds.getRepository(ExceptionRecord).find({ where: { caseId: id }, order: { detectedAt: 'ASC' } }),
      this.audit.forEntity('case', id),
    ]);
    return { ...c, exceptions: exceptions.map((e) => ({ id: e.id, messageId: e.messageId, ...e.payload })), timeline };
  }

  acknowledge(id: string, actor: Actor) {
    return this.change(id, actor, 'case.acknowledged', (c) => {
      if (c.status !== 'open') throw new ConflictException(`case is ${c.status}; only open cases can be acknowledged`);
      return { status: 'acknowledged', acknowledgedAt: new Date() };
    });
  }

  assign(id: string, actor: Actor, to: { assignee?: string | null; team?: string }) {
    return this.change(id, actor, 'case.assigned', (c) => {
      if (c.status === 'resolved') throw new ConflictException('case is resolved; it cannot be reassigned');
      if (to.team && !this.router.current().teams.some((t) => t.id === to.team)) {
        throw new BadRequestException(`team ${to.team} is not declared in routing policy ${this.router.current().id}`);
      }
      return { ...(to.assignee !== undefined ? { assignee: to.assignee } : {}), ...(to.team ? { ownerTeam: to.team } : {}) };
    });
  }

  comment(id: string, actor: Actor, text: string) {
    return this.change(id, actor, 'case.commented', () => ({}), { comment: text });
  }

  resolve(id: string, actor: Actor, rootCause: RootCause, note?: string) {
    return this.ds.transaction((m) => this.resolveWithin(m, id, actor, rootCause, note));
  }

  /** The same resolve inside the caller's transaction (system actions such as matching's auto-resolve). */
  resolveWithin(m: EntityManager, id: string, actor: Actor, rootCause: RootCause, note?: string, extra: Record<string, unknown> = {}) {
    return this.changeWithin(m, id, actor, 'case.resolved', (c) => {
      if (c.status === 'resolved') throw new ConflictException('case is already resolved');
      return { status: 'resolved', resolvedAt: new Date(), rootCause, resolutionNote: note ?? null, acknowledgedAt: c.acknowledgedAt ?? new Date() };
    }, extra);
  }

  private async change(
    id: string,
    actor: Actor,
    action: string,
    next: (c: CaseRecord) => Partial<CaseRecord>,
    extra: Record<string, unknown> = {},
  ): Promise<CaseRecord> {
    return this.ds.transaction((m: EntityManager) => this.changeWithin(m, id, actor, action, next, extra));
  }

  private async changeWithin(
    m: EntityManager,
    id: string,
    actor: Actor,
    action: string,
    next: (c: CaseRecord) => Partial<CaseRecord>,
    extra: Record<string, unknown> = {},
  ): Promise<CaseRecord> {
    {
      const c = await m.findOne(CaseRecord, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!c) throw new NotFoundException(`no case ${id}`);
      const patch = { ...next(c), updatedAt: new Date() };
      const before = Object.fromEntries(Object.keys(patch).filter((k) => k !== 'updatedAt').map((k) => [k, c[k as keyof CaseRecord]]));
      await m.update(CaseRecord, { id }, patch);
      const after = Object.fromEntries(Object.entries(patch).filter(([k]) => k !== 'updatedAt'));
      await this.audit.record(m, [{ actor, entityType: 'case', entityId: id, action, before, after: { ...after, ...extra } }]);
      const updated = Object.assign(c, patch);
      await this.events.append(m, [
        {
          type: action === 'case.resolved' ? 'case.resolved' : 'case.updated',
          caseId: id,
          entityType: 'case',
          entityId: id,
          facets: { team: updated.ownerTeam, code: updated.code, severity: updated.severity, site: updated.site, businessUnit: updated.businessUnit },
          payload: { case: updated, change: { action, by: actor, before, after: { ...after, ...extra } } },
        },
      ]);
      return updated;
    }
  }
}
