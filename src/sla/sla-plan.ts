import { DateTime } from 'luxon';
import type { RoutingPolicy } from '../routing/routing-policy.js';
import type { ImpactCondition, SlaDefinitionSpec } from '../routing/rule-outputs.js';
import type { BusinessCalendar } from './business-calendar.js';
import type { ClockThreshold } from './sla-clock.entity.js';

/** The case facts SLA targets depend on. */
export interface CaseImpact {
  severity: string;
  customerTier?: string | null;
  amountAtRisk?: number | null;
  /** The order's value (canonical `orderValue.amount`, set by the mapping or enrichment). */
  orderValue?: number | null;
  attributes?: Record<string, unknown>;
}

export interface ClockPlan {
  kind: string;
  slaId: string;
  calendarId: string;
  /** The overlay id whose policy the SLA came from (null: enterprise); see SlaClockRecord.policyScope. */
  scope?: string | null;
  targetMs: number;
  basis: string;
  thresholds: ClockThreshold[];
}

/** The SLA a case runs under: the rule's, else the first definition whose `defaultFor` lists the severity. */
export function slaFor(policy: RoutingPolicy, ruleSla: string | null, severity: string): SlaDefinitionSpec | null {
  if (ruleSla) return policy.slas.find((s) => s.id === ruleSla) ?? null;
  return policy.slas.find((s) => (s.defaultFor as string[]).includes(severity)) ?? null;
}

/** Warnings, the breach at 100 %, and escalations, in the order they fire. */
export function thresholdsOf(sla: SlaDefinitionSpec): ClockThreshold[] {
  // Escalation level = rank of its `at` among the distinct escalation points (two teams at 100 % share a level).
  const points = [...new Set(sla.escalations.map((e) => e.at))];
  const list: ClockThreshold[] = [
    ...sla.warnings.map((at) => ({ at, kind: 'warning' as const })),
    { at: 100, kind: 'breach' as const },
    ...sla.escalations.map((e) => ({ at: e.at, kind: 'escalation' as const, to: e.to, reassign: e.reassign, level: points.indexOf(e.at) + 1 })),
  ];
  return list.sort((a, b) => a.at - b.at);
}

/**
 * One plan per clock of the SLA (or only `kinds`). Targets: document date (dueFrom) when the
 * attribute holds a date, else the first impact condition that holds, else the default target.
 */
export function planClocks(sla: SlaDefinitionSpec, calendar: BusinessCalendar, impact: CaseImpact, now: Date, kinds?: string[]): ClockPlan[] {
  const out: ClockPlan[] = [];
  for (const c of sla.clocks) {
    if (kinds && !kinds.includes(c.kind)) continue;
    let targetMs = c.target as unknown as number;
    let basis = `default target ${fmt(targetMs)}`;
    const hit = c.targets.find((t) => holds(t.when, impact));
    if (hit) {
      targetMs = hit.target as unknown as number;
      basis = `${describe(hit.when)}: ${fmt(targetMs)}`;
    }
    if (c.dueFrom) {
      const raw = impact.attributes?.[c.dueFrom.attribute];
      const date = typeof raw === 'string' ? DateTime.fromISO(raw, { zone: calendar.spec.timeZone }) : null;
      if (date?.isValid) {
        // `before` is business time, like every SLA duration: "2 business hours before the ship date"
        // leaves the business time until that date less two business hours (not two wall-clock hours).
        const before = (c.dueFrom.before as unknown as number | undefined) ?? 0;
        targetMs = Math.max(0, calendar.between(now, new Date(date.toMillis())) - before);
        basis = `${c.dueFrom.attribute} ${raw}${before ? ` minus ${fmt(before)} of business time` : ''}: ${fmt(targetMs)} of business time left`;
      }
    }
    out.push({ kind: c.kind, slaId: sla.id, calendarId: sla.calendar, targetMs, basis: basis.slice(0, 300), thresholds: thresholdsOf(sla) });
  }
  return out;
}

function holds(w: ImpactCondition, i: CaseImpact): boolean {
  if (w.severity && !(w.severity as string[]).includes(i.severity)) return false;
  if (w.customerTier && (!i.customerTier || !w.customerTier.includes(i.customerTier))) return false;
  if (w.minAmountAtRisk !== undefined && (i.amountAtRisk == null || i.amountAtRisk < w.minAmountAtRisk)) return false;
  if (w.minOrderValue !== undefined && (i.orderValue == null || i.orderValue < w.minOrderValue)) return false;
  return true;
}

function describe(w: ImpactCondition): string {
  const parts: string[] = [];
  if (w.severity) parts.push(`severity ${w.severity.join('|')}`);
  if (w.customerTier) parts.push(`customer tier ${w.customerTier.join('|')}`);
  if (w.minAmountAtRisk !== undefined) parts.push(`amount at risk >= ${w.minAmountAtRisk}`);
  if (w.minOrderValue !== undefined) parts.push(`order value >= ${w.minOrderValue}`);
  return parts.join(', ') || 'always';
}

function fmt(ms: number): string {
  const m = Math.round(ms / 60000);
  return m >= 60 ? `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ''}` : m >= 1 ? `${m}m` : `${Math.round(ms / 1000)}s`;
}
