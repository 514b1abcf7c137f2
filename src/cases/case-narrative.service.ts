import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AuditTrail } from '../audit/audit-trail.service.js';
import type { AuditEvent } from '../audit/audit-event.entity.js';
import { CaseRecord } from './case.entity.js';
import { ExceptionRecord } from './exception.entity.js';

const HISTORY_DAYS = 90;
const MIN_HISTORY = 5;

/**
 * A case told in plain sentences (from its audit trail and exceptions), and a risk score for
 * missing its resolution target, from the history of comparable cases.
 */
@Injectable()
export class CaseNarrative {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditTrail,
  ) {}

  async summary(id: string, targetHours: number) {
    const c = await this.ds.getRepository(CaseRecord).findOne({ where: { id } });
    if (!c) throw new NotFoundException(`no case ${id}`);
    const [exceptions, trail] = await Promise.all([
      this.ds.getRepository(ExceptionRecord).find({ where: { caseId: id }, order: { detectedAt: 'ASC' } }),
      this.audit.forEntity('case', id),
    ]);
    const timeline = [
      ...exceptions.map((e) => ({ at: e.detectedAt, text: `${e.connectorId} reported ${e.code} (${e.severity}): ${e.title}${e.occurrences > 1 ? `, seen ${e.occurrences} times` : ''}.` })),
      ...trail.map((a) => ({ at: a.occurredAt, text: sentence(a) })),
    ].sort((a, b) => a.at.getTime() - b.at.getTime());
    return {
      caseId: c.id,
      headline: `Case ${c.number} (${c.kind}) is ${c.status}: ${c.title}. Owner team ${c.ownerTeam}, severity ${c.severity}, ${c.exceptionCount} exception${c.exceptionCount === 1 ? '' : 's'}${c.amountAtRisk ? `, ${c.amountAtRisk} ${c.currency} at risk` : ''}.`,
      timeline: timeline.map((t) => ({ at: t.at.toISOString(), text: t.text })),
      risk: await this.risk(c, targetHours),
    };
  }

  /**
   * Risk of missing the resolution target. SLA clocks live on another branch, so this uses
   * resolution-time history: of the comparable cases (same code and owner team, resolved in the
   * last 90 days), the share that took longer than the target; 1 if this case is already past it.
   */
  private async risk(c: CaseRecord, targetHours: number) {
    const [h] = await this.ds.query(
      `SELECT count(*)::int AS n,
              count(*) FILTER (WHERE resolved_at - opened_at > make_interval(hours => $3))::int AS late,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - opened_at)) AS median_s
         FROM cases
        WHERE code = $1 AND owner_team = $2 AND status = 'resolved' AND resolved_at > now() - make_interval(days => $4) AND id <> $5`,
      [c.code, c.ownerTeam, targetHours, HISTORY_DAYS, c.id],
    );
    const ageHours = ((c.resolvedAt ?? new Date()).getTime() - c.openedAt.getTime()) / 3_600_000;
    const basis = `${h.n} ${c.code} cases resolved by ${c.ownerTeam} in the last ${HISTORY_DAYS} days`;
    if (c.status === 'resolved') return { score: null, targetHours, explanation: `Resolved after ${ageHours.toFixed(1)} h; no risk to score.` };
    if (ageHours > targetHours) return { score: 1, targetHours, explanation: `Open ${ageHours.toFixed(1)} h, already past the ${targetHours} h target.` };
    if (h.n < MIN_HISTORY) return { score: null, targetHours, explanation: `Not enough history: ${basis} (need ${MIN_HISTORY}).` };
    return {
      score: Math.round((h.late / h.n) * 100) / 100,
      targetHours,
      explanation: `${h.late} of ${basis} took longer than ${targetHours} h (median ${(Number(h.median_s) / 3600).toFixed(1)} h); this case has been open ${ageHours.toFixed(1)} h. Based on resolution times, not SLA clocks.`,
    };
  }
}

function sentence(a: AuditEvent): string {
  const who = a.actorType === 'system' ? 'The hub' : `${a.actorId}`;
  const after = (a.after ?? {}) as Record<string, any>;
  switch (a.action) {
    case 'case.opened':
      return `${who} opened the case for ${after.team} (severity ${after.severity}).`;
    case 'case.routed':
      return `Routed to ${after.team}: ${after.reason}.`;
    case 'case.updated':
      return after.repeatedException ? `The same exception was reported again (${after.occurrences} times in all).` : `${(after.addedExceptions ?? []).length || 'More'} exception(s) joined the case (now ${after.exceptionCount}).`;
    case 'case.acknowledged':
      return `${who} acknowledged the case.`;
    case 'case.assigned':
      return `${who} assigned the case${after.assignee ? ` to ${after.assignee}` : ''}${after.ownerTeam ? ` (team ${after.ownerTeam})` : ''}.`;
    case 'case.commented':
      return `${who} commented: "${after.comment}".`;
    case 'case.resolved':
      return after.resolutionNote?.startsWith('Auto-resolved') ? `${after.resolutionNote}.` : `${who} resolved the case (root cause ${after.rootCause}${after.resolutionNote ? `: ${after.resolutionNote}` : ''}).`;
    case 'case.reopened':
      return `The cause recurred, so the case re-opened (re-opened ${after.reopenCount} time${after.reopenCount === 1 ? '' : 's'}).`;
    default:
      return `${who}: ${a.action}.`;
  }
}
