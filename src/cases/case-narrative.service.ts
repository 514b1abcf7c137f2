import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AuditTrail } from '../audit/audit-trail.service.js';
import { CaseTasks } from '../sla/case-tasks.service.js';
import { BreachRisk } from './breach-risk.service.js';
import { sentence } from './case-sentences.js';
import { CaseRecord } from './case.entity.js';
import { ExceptionRecord } from './exception.entity.js';

/**
 * A case told in plain sentences (from its audit trail and exceptions), and the risk that its open
 * SLA clocks breach, from the SLA history of comparable cases (BreachRisk).
 */
@Injectable()
export class CaseNarrative {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditTrail,
    private readonly tasks: CaseTasks,
    private readonly risk: BreachRisk,
  ) {}

  async summary(id: string) {
    const c = await this.ds.getRepository(CaseRecord).findOne({ where: { id } });
    if (!c) throw new NotFoundException(`no case ${id}`);
    const [exceptions, trail, tasks, risk] = await Promise.all([
      this.ds.getRepository(ExceptionRecord).find({ where: { caseId: id }, order: { detectedAt: 'ASC' } }),
      this.audit.forEntity('case', id),
      this.tasks.forCase(id),
      this.risk.forCase(c),
    ]);
    const ctx = { taskTitles: new Map(tasks.map((t) => [t.id, t.title])) };
    const timeline = [
      ...exceptions.map((e) => ({ at: e.detectedAt, text: `${e.connectorId} reported ${e.code} (${e.severity}): ${e.title}${e.occurrences > 1 ? `, seen ${e.occurrences} times` : ''}.` })),
      ...trail.map((a) => ({ at: a.occurredAt, text: sentence(a, ctx) })),
    ].sort((a, b) => a.at.getTime() - b.at.getTime());
    return {
      caseId: c.id,
      headline: `Case ${c.number} (${c.kind}) is ${c.status}: ${c.title}. Owner team ${c.ownerTeam}, severity ${c.severity}, ${c.exceptionCount} exception${c.exceptionCount === 1 ? '' : 's'}${c.amountAtRisk ? `, ${c.amountAtRisk} ${c.currency} at risk` : ''}.`,
      timeline: timeline.map((t) => ({ at: t.at.toISOString(), text: t.text })),
      risk,
    };
  }
}
