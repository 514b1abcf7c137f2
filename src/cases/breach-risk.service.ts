import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { SlaClocks } from '../sla/sla-clocks.service.js';
import type { CaseRecord } from './case.entity.js';

/** Stopped clocks of the last 90 days make the history; fewer than 5 comparable ones give no score. */
export const HISTORY_DAYS = 90;
export const MIN_HISTORY = 5;

type CaseClock = Awaited<ReturnType<SlaClocks['forCase']>>[number];

export interface ClockRisk {
  clockId: string;
  kind: string;
  sla: string;
  status: string;
  /** Share of the target's business time used so far. */
  percent: number;
  /** Probability this clock breaches; null without enough history. */
  probability: number | null;
  basis: {
    /** Which facts the comparable cases share with this one. */
    match: string;
    /** Comparable clocks still running at this clock's point (met later or breached), and how many of them breached. */
    similar: number;
    breached: number;
    breachRate: number | null;
    days: number;
  } | null;
  explanation: string;
}

/**
 * The chance that a case's open SLA clocks breach, from the outcomes of the same kind of clock on
 * comparable past cases (same code, owner team and severity; same site too when that leaves enough
 * history). It conditions on how far through its clock the case is: a past clock that was met
 * before reaching that point says nothing about a case already past it, so the estimate is
 * breached / (breached + met at or after this point). A clock already at or past its target is 1.
 */
@Injectable()
export class BreachRisk {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly clocks: SlaClocks,
  ) {}

  async forCase(c: CaseRecord) {
    if (c.status === 'resolved') return { score: null, clocks: [], explanation: 'The case is resolved: no open SLA clock to score.' };
    const open = (await this.clocks.forCase(c.id)).filter((k) => k.taskId === null && k.status !== 'stopped');
    if (!open.length) return { score: null, clocks: [], explanation: 'The case has no open SLA clock (no SLA applies, or its clocks stopped).' };
    const clocks = await Promise.all(open.map((k) => this.clockRisk(c, k)));
    const scored = clocks.filter((k) => k.probability !== null);
    if (!scored.length) return { score: null, clocks, explanation: `No score: ${clocks.map((k) => k.explanation).join(' ')}` };
    // The case misses its SLA when any clock does; the clocks of one case move together (the same people
    // work it), so the highest clock's probability is the case's, not a product of independent ones.
    const top = scored.reduce((a, b) => (b.probability! > a.probability! ? b : a));
    return { score: top.probability, clocks, explanation: clocks.map((k) => k.explanation).join(' ') };
  }

  private async clockRisk(c: CaseRecord, k: CaseClock): Promise<ClockRisk> {
    const head = { clockId: k.id, kind: k.kind, sla: k.sla, status: k.status, percent: k.percent };
    const where = `${k.kind} clock (${k.sla}, ${k.percent} % of its target used${k.status === 'paused' ? ', paused' : ''})`;
    if (k.breached || k.elapsedMs >= k.targetMs) {
      return { ...head, probability: 1, basis: null, explanation: `The ${where} has already breached.` };
    }
    const fraction = k.targetMs > 0 ? k.elapsedMs / k.targetMs : 0;
    const since = new Date(this.clocks.now().getTime() - HISTORY_DAYS * 86_400_000);
    let match = 'code, owner team, severity, site';
    let h = c.site ? await this.history(c, k.kind, fraction, since, c.site) : { similar: 0, breached: 0 };
    if (h.similar < MIN_HISTORY) {
      match = 'code, owner team, severity';
      h = await this.history(c, k.kind, fraction, since, null);
    }
    const comparable = `${h.similar} ${k.kind} clock${h.similar === 1 ? '' : 's'} of ${c.code} cases (${c.severity}, ${c.ownerTeam}${match.endsWith('site') ? `, ${c.site}` : ''}) stopped in the last ${HISTORY_DAYS} days that ran at least as far`;
    if (h.similar < MIN_HISTORY) {
      return {
        ...head, probability: null, basis: { match, similar: h.similar, breached: h.breached, breachRate: null, days: HISTORY_DAYS },
        explanation: `Not enough history for the ${where}: ${comparable} (need ${MIN_HISTORY}).`,
      };
    }
    const rate = Math.round((h.breached / h.similar) * 100) / 100;
    return {
      ...head, probability: rate, basis: { match, similar: h.similar, breached: h.breached, breachRate: rate, days: HISTORY_DAYS },
      explanation: `The ${where}: ${h.breached} of ${comparable} breached, so ${Math.round(rate * 100)} %.`,
    };
  }

  /**
   * Comparable stopped case clocks that were still running at `fraction` of their target: breached ones
   * (they ran past 100 %) and met ones whose business time used reached the fraction.
   */
  private async history(c: CaseRecord, kind: string, fraction: number, since: Date, site: string | null): Promise<{ similar: number; breached: number }> {
    const [h] = await this.ds.query(
      `SELECT count(*)::int AS similar, count(*) FILTER (WHERE k.outcome = 'breached')::int AS breached
         FROM sla_clocks k JOIN cases c ON c.id = k.case_id
        WHERE k.task_id IS NULL AND k.kind = $1 AND k.status = 'stopped' AND k.outcome IN ('met', 'breached') AND k.stopped_at > $2
          AND c.code = $3 AND c.owner_team = $4 AND c.severity = $5 AND c.id <> $6 AND ($7::varchar IS NULL OR c.site = $7)
          AND (k.outcome = 'breached' OR k.consumed_ms >= k.target_ms * $8::float8)`,
      [kind, since, c.code, c.ownerTeam, c.severity, c.id, site, fraction],
    );
    return h;
  }
}
