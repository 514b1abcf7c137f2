import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { quantile } from './cycle-histogram.js';
import { PartnerReports } from './partner-reports.service.js';
import { iso, keyOf, named, ratio, round2, round4, type ReportResult, type Row } from './report-format.js';
import { caseSource, exceptionSource, integrationSource, rootCauseSource, type Source } from './rollup-sources.js';
import { OPEN_CASES, SqlScope, type Dimension, type ReportFilters } from './report-filters.js';

export type { ReportResult } from './report-format.js';

/** Age buckets of open cases (hours), for aging and its heat map. */
export const AGE_BUCKETS: [string, number][] = [['<4h', 4], ['4-24h', 24], ['1-3d', 72], ['3-7d', 168], ['7-30d', 720], ['>30d', Infinity]];

/**
 * Every report reads rollup tables kept current by triggers (docs/reporting.md), or the few open
 * cases through a partial index; none scans exceptions or cases in full.
 * Raw SQL throughout: these are aggregates over rollups that a query builder would only obscure.
 */
@Injectable()
export class Reports {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly partners: PartnerReports,
  ) {}

  static readonly NAMES = [
    'headline', 'volume', 'aging', 'cycle-times', 'sla', 'repeats', 'pareto', 'connectors', 'business-units', 'touches',
    'amount-at-risk', 'invoice-delay', 'scorecards', 'upstream-causes', 'critical-cases',
  ] as const;

  run(name: string, f: ReportFilters): Promise<ReportResult> {
    switch (name) {
      case 'headline': return this.headline(f);
      case 'volume': return this.volume(f);
      case 'aging': return this.aging(f);
      case 'cycle-times': return this.cycleTimes(f);
      case 'sla': return this.sla(f);
      case 'repeats': return this.repeats(f);
      case 'pareto': return this.pareto(f);
      case 'connectors': return this.connectors(f);
      case 'business-units': return this.businessUnits(f);
      case 'touches': return this.touches(f);
      case 'amount-at-risk': return this.amountAtRisk(f);
      case 'invoice-delay': return this.partners.invoiceDelay(f);
      case 'scorecards': return this.partners.scorecards(f);
      case 'upstream-causes': return this.upstreamCauses(f);
      case 'critical-cases': return this.criticalCases(f);
      default: throw new NotFoundException(`no report ${name}; reports: ${Reports.NAMES.join(', ')}`);
    }
  }

  private q(sql: string, s: SqlScope | Source): Promise<Row[]> {
    return this.ds.query(sql, s instanceof SqlScope ? s.params : s.scope.params);
  }

  private openCases(report: string, f: ReportFilters): SqlScope {
    const s = new SqlScope(report, OPEN_CASES, f, ['severity']);
    s.and(`status <> 'resolved'`).and('NOT test_mode');
    if (f.severity) s.and(`severity = ${s.param(f.severity)}`);
    return s;
  }

  async headline(f: ReportFilters): Promise<ReportResult> {
    const e = exceptionSource('headline', f, false);
    const c = caseSource('headline', f, 'totals');
    const b = caseSource('headline', f, 'bins');
    const o = this.openCases('headline', f);
    const [[ex], [cs], [open], bins] = await Promise.all([
      this.q(`SELECT COALESCE(sum(exceptions), 0)::int AS exceptions, COALESCE(sum(repeats), 0)::int AS repeats,
                     COALESCE(sum(critical), 0)::int AS critical, COALESCE(sum(amount_at_risk), 0)::float8 AS amount FROM ${e.sql} x ${e.scope.clause()}`, e),
      this.q(`SELECT COALESCE(sum(cases) FILTER (WHERE metric = 'opened'), 0)::int AS opened, COALESCE(sum(cases) FILTER (WHERE metric = 'resolved'), 0)::int AS resolved,
                     COALESCE(sum(breached) FILTER (WHERE metric = 'resolved'), 0)::int AS breached,
                     COALESCE(sum(sla_tracked) FILTER (WHERE metric = 'resolved'), 0)::int AS tracked FROM ${c.sql} x ${c.scope.clause()}`, c),
      this.q(`SELECT count(*)::int AS open, count(*) FILTER (WHERE severity = 'critical')::int AS critical,
                     count(*) FILTER (WHERE sla_breached OR resolve_due_at < now())::int AS overdue, COALESCE(sum(amount_at_risk), 0)::float8 AS amount
                FROM cases ${o.clause()}`, o),
      this.q(`SELECT bin, sum(cases)::int AS n FROM ${b.sql} x ${b.scope.clause("metric = 'resolved'")} GROUP BY bin`, b),
    ]);
    const hist = new Map(bins.map((b) => [Number(b.bin), Number(b.n)]));
    return {
      report: 'headline',
      rows: [],
      summary: {
        exceptions: ex.exceptions, criticalExceptions: ex.critical, amountAtRisk: round2(ex.amount),
        repeatRate: ratio(ex.repeats, ex.exceptions), casesOpened: cs.opened, casesResolved: cs.resolved,
        slaBreachRate: ratio(cs.breached, cs.tracked), resolveP50Minutes: quantile(hist, 0.5),
        openCases: open.open, openCritical: open.critical, openOverdue: open.overdue, openAmountAtRisk: round2(open.amount),
      },
    };
  }

  async volume(f: ReportFilters): Promise<ReportResult> {
    const s = exceptionSource('volume', f, true);
    const k = s.scope.keys(['category']);
    const tz = s.scope.param(f.tz);
    const rows = await this.q(
      `SELECT to_char(b, 'YYYY-MM-DD"T"HH24:MI') AS bucket, b AT TIME ZONE ${tz} AS start, ${k.select ? k.select + ',' : ''}
              sum(exceptions)::int AS exceptions, sum(amount_at_risk)::float8 AS amount_at_risk
         FROM (SELECT date_trunc('${f.bucket}', ts AT TIME ZONE ${tz}) AS b, * FROM ${s.sql} x ${s.scope.clause()}) y
        GROUP BY b${k.group ? ', ' + k.group : ''} ORDER BY b${k.group ? ', ' + k.group : ''}`, s);
    return { report: 'volume', rows: rows.map((r) => ({ bucket: r.bucket, start: iso(r.start), ...named(r, k.dims), exceptions: r.exceptions, amountAtRisk: round2(r.amount_at_risk) })) };
  }

  async aging(f: ReportFilters): Promise<ReportResult> {
    const s = this.openCases('aging', f);
    const k = s.keys([]);
    const caseExpr = AGE_BUCKETS.map(([label, h]) => (h === Infinity ? `ELSE '${label}'` : `WHEN opened_at > now() - interval '${h} hours' THEN '${label}'`)).join(' ');
    const rows = await this.q(
      `SELECT ${k.select ? k.select + ',' : ''} CASE ${caseExpr} END AS age, count(*)::int AS cases, count(*) FILTER (WHERE severity = 'critical')::int AS critical,
              COALESCE(sum(amount_at_risk), 0)::float8 AS amount_at_risk
         FROM cases ${s.clause()} GROUP BY ${k.group ? k.group + ', ' : ''} age`, s);
    const order = new Map(AGE_BUCKETS.map(([l], i) => [l, i]));
    rows.sort((a, b) => keyOf(a, k.dims).localeCompare(keyOf(b, k.dims)) || order.get(a.age)! - order.get(b.age)!);
    return { report: 'aging', rows: rows.map((r) => ({ ...named(r, k.dims), age: r.age, cases: r.cases, critical: r.critical, amountAtRisk: round2(r.amount_at_risk) })) };
  }

  async cycleTimes(f: ReportFilters): Promise<ReportResult> {
    const s = caseSource('cycle-times', f, 'bins'); // the histograms hold acknowledge and resolve only
    const k = s.scope.keys([]);
    const rows = await this.q(
      `SELECT ${k.select ? k.select + ',' : ''} metric, bin, sum(cases)::int AS n FROM ${s.sql} x ${s.scope.clause()}
        GROUP BY ${k.group ? k.group + ', ' : ''} metric, bin`, s);
    const groups = new Map<string, { key: Row; metric: string; bins: Map<number, number> }>();
    for (const r of rows) {
      const id = keyOf(r, k.dims) + '|' + r.metric;
      const g = groups.get(id) ?? { key: named(r, k.dims), metric: r.metric, bins: new Map() };
      g.bins.set(Number(r.bin), Number(r.n));
      groups.set(id, g);
    }
    const out = [...groups.values()].map((g) => ({
      ...g.key, metric: g.metric === 'acknowledged' ? 'acknowledge' : 'resolve', cases: [...g.bins.values()].reduce((a, b) => a + b, 0),
      p50Minutes: quantile(g.bins, 0.5), p90Minutes: quantile(g.bins, 0.9),
    }));
    out.sort((a, b) => keyOf(a, k.dims).localeCompare(keyOf(b, k.dims)) || a.metric.localeCompare(b.metric));
    return { report: 'cycle-times', rows: out };
  }

  async sla(f: ReportFilters): Promise<ReportResult> {
    const s = caseSource('sla', f, 'totals');
    const k = s.scope.keys([]);
    const rows = await this.q(
      `SELECT ${k.select ? k.select + ',' : ''} metric, sum(cases)::int AS cases, sum(sla_tracked)::int AS tracked, sum(breached)::int AS breached
         FROM ${s.sql} x ${s.scope.clause("metric IN ('acknowledged', 'resolved')")} GROUP BY ${k.group ? k.group + ', ' : ''} metric ORDER BY ${k.group ? k.group + ', ' : ''} metric`, s);
    return {
      report: 'sla',
      rows: rows.map((r) => ({ ...named(r, k.dims), target: r.metric === 'acknowledged' ? 'acknowledge' : 'resolve', cases: r.cases, slaTracked: r.tracked, breached: r.breached, breachRate: ratio(r.breached, r.tracked) })),
    };
  }

  async repeats(f: ReportFilters): Promise<ReportResult> {
    const s = exceptionSource('repeats', f, false);
    const k = s.scope.keys(['code', 'site']);
    const [rows, [all]] = await Promise.all([
      this.q(`SELECT ${k.select}, sum(exceptions)::int AS exceptions, sum(repeats)::int AS repeats FROM ${s.sql} x ${s.scope.clause()}
               GROUP BY ${k.group} HAVING sum(repeats) > 0 ORDER BY repeats DESC, ${k.group} LIMIT ${f.limit}`, s),
      this.q(`SELECT COALESCE(sum(exceptions), 0)::int AS exceptions, COALESCE(sum(repeats), 0)::int AS repeats FROM ${s.sql} x ${s.scope.clause()}`, s),
    ]);
    return {
      report: 'repeats',
      summary: { exceptions: all.exceptions, repeats: all.repeats, repeatRate: ratio(all.repeats, all.exceptions) },
      rows: rows.map((r) => ({ ...named(r, k.dims), exceptions: r.exceptions, repeats: r.repeats, repeatRate: ratio(r.repeats, r.exceptions) })),
    };
  }

  async pareto(f: ReportFilters): Promise<ReportResult> {
    const s = exceptionSource('pareto', f, false);
    const k = s.scope.keys(['system']);
    const rows = await this.q(
      `SELECT *, sum(exceptions) OVER (ORDER BY exceptions DESC, ${k.group} ROWS UNBOUNDED PRECEDING)::int AS running, sum(exceptions) OVER ()::int AS total
         FROM (SELECT ${k.select}, sum(exceptions)::int AS exceptions, sum(amount_at_risk)::float8 AS amount_at_risk FROM ${s.sql} x ${s.scope.clause()} GROUP BY ${k.group}) g
        ORDER BY exceptions DESC, ${k.group} LIMIT ${f.limit}`, s);
    return {
      report: 'pareto',
      rows: rows.map((r) => ({ ...named(r, k.dims), exceptions: r.exceptions, amountAtRisk: round2(r.amount_at_risk), share: ratio(r.exceptions, r.total), cumulativeShare: ratio(r.running, r.total) })),
    };
  }

  async connectors(f: ReportFilters): Promise<ReportResult> {
    const s = integrationSource('connectors', f, true);
    const tz = s.scope.param(f.tz);
    const kinds = ['messages', 'failures', 'retries', 'dead_letters', 'mapping_failures', 'rejected_acks', 'integration_exceptions'];
    const rows = await this.q(
      `SELECT to_char(b, 'YYYY-MM-DD"T"HH24:MI') AS bucket, b AT TIME ZONE ${tz} AS start, connector_id,
              ${kinds.map((k) => `COALESCE(sum(n) FILTER (WHERE kind = '${k}'), 0)::int AS ${k}`).join(', ')}
         FROM (SELECT date_trunc('${f.bucket}', ts AT TIME ZONE ${tz}) AS b, * FROM ${s.sql} x ${s.scope.clause()}) y
        GROUP BY b, connector_id ORDER BY b, connector_id`, s);
    return {
      report: 'connectors',
      rows: rows.map((r) => ({
        bucket: r.bucket, start: iso(r.start), connector: r.connector_id, messages: r.messages, failures: r.failures, retries: r.retries,
        deadLetters: r.dead_letters, mappingFailures: r.mapping_failures, rejectedAcks: r.rejected_acks, integrationExceptions: r.integration_exceptions,
        failureRate: ratio(r.failures + r.dead_letters, r.messages),
      })),
    };
  }

  async businessUnits(f: ReportFilters): Promise<ReportResult> {
    if (f.businessUnit) throw new BadRequestException('report business-units compares every business unit; drop the businessUnit filter');
    const e = exceptionSource('business-units', f, false);
    const c = caseSource('business-units', f, 'totals');
    const [ex, cs] = await Promise.all([
      this.q(`SELECT business_unit, sum(exceptions)::int AS exceptions, sum(amount_at_risk)::float8 AS amount FROM ${e.sql} x ${e.scope.clause()} GROUP BY 1`, e),
      this.q(`SELECT business_unit, sum(cases) FILTER (WHERE metric = 'resolved')::int AS resolved, sum(breached) FILTER (WHERE metric = 'resolved')::int AS breached,
                     sum(sla_tracked) FILTER (WHERE metric = 'resolved')::int AS tracked FROM ${c.sql} x ${c.scope.clause()} GROUP BY 1`, c),
    ]);
    const byBu = new Map<string, Row>();
    for (const r of ex) byBu.set(r.business_unit, { exceptions: r.exceptions, amount: r.amount, resolved: 0, breached: 0, tracked: 0 });
    for (const r of cs) Object.assign(byBu.get(r.business_unit) ?? byBu.set(r.business_unit, { exceptions: 0, amount: 0 }).get(r.business_unit)!, { resolved: r.resolved ?? 0, breached: r.breached ?? 0, tracked: r.tracked ?? 0 });
    const units = [...byBu.entries()];
    const avgEx = units.length ? units.reduce((a, [, v]) => a + v.exceptions, 0) / units.length : 0;
    const allBreached = units.reduce((a, [, v]) => a + v.breached, 0);
    const allTracked = units.reduce((a, [, v]) => a + v.tracked, 0);
    const enterpriseBreach = ratio(allBreached, allTracked);
    return {
      report: 'business-units',
      summary: { units: units.length, averageExceptions: round2(avgEx), enterpriseBreachRate: enterpriseBreach },
      rows: units
        .sort((a, b) => b[1].exceptions - a[1].exceptions || a[0].localeCompare(b[0]))
        .map(([bu, v]) => ({
          businessUnit: bu, exceptions: v.exceptions, varianceVsAverage: avgEx ? round4((v.exceptions - avgEx) / avgEx) : null,
          amountAtRisk: round2(v.amount), resolvedCases: v.resolved, slaBreachRate: ratio(v.breached, v.tracked),
          breachRateVsEnterprise: enterpriseBreach === null || ratio(v.breached, v.tracked) === null ? null : round4(ratio(v.breached, v.tracked)! - enterpriseBreach),
        })),
    };
  }

  async touches(f: ReportFilters): Promise<ReportResult> {
    const s = caseSource('touches', f, 'totals');
    const k = s.scope.keys(['team']);
    const rows = await this.q(
      `SELECT ${k.select}, sum(cases)::int AS cases, sum(touches)::int AS touches FROM ${s.sql} x ${s.scope.clause("metric = 'resolved'")}
        GROUP BY ${k.group} ORDER BY ${k.group}`, s);
    return { report: 'touches', rows: rows.map((r) => ({ ...named(r, k.dims), resolvedCases: r.cases, manualTouches: r.touches, touchesPerCase: r.cases ? round2(r.touches / r.cases) : null })) };
  }

  async amountAtRisk(f: ReportFilters): Promise<ReportResult> {
    const e = exceptionSource('amount-at-risk', f, false);
    const ke = e.scope.keys(['category']);
    // Open cases hold no supplier or customer: with those in the query, only the raised amounts are reported.
    const o = this.openCases('amount-at-risk', { ...f, supplier: undefined, customer: undefined });
    const ko = o.keys(ke.dims.filter((d) => OPEN_CASES[d]) as Dimension[]);
    const [raised, open] = await Promise.all([
      this.q(`SELECT ${ke.select}, sum(amount_at_risk)::float8 AS amount, sum(exceptions)::int AS exceptions FROM ${e.sql} x ${e.scope.clause()} GROUP BY ${ke.group}`, e),
      ko.dims.length === ke.dims.length && !f.supplier && !f.customer
        ? this.q(`SELECT ${ko.select}, COALESCE(sum(amount_at_risk), 0)::float8 AS amount, count(*)::int AS cases FROM cases ${o.clause()} GROUP BY ${ko.group}`, o)
        : Promise.resolve([] as Row[]),
    ]);
    const openBy = new Map(open.map((r) => [keyOf(r, ke.dims), r]));
    const rows = raised.map((r) => ({ ...named(r, ke.dims), exceptions: r.exceptions, amountRaised: round2(r.amount), openCases: openBy.get(keyOf(r, ke.dims))?.cases ?? 0, amountOpenNow: round2(openBy.get(keyOf(r, ke.dims))?.amount ?? 0) }));
    // Ties (e.g. categories without amounts) in key order, not in whatever order the database grouped them.
    rows.sort((a, b) => b.amountRaised - a.amountRaised || keyOf(a, ke.dims).localeCompare(keyOf(b, ke.dims)));
    return { report: 'amount-at-risk', rows: rows.slice(0, f.limit) };
  }

  async upstreamCauses(f: ReportFilters): Promise<ReportResult> {
    const s = rootCauseSource('upstream-causes', f);
    const rows = await this.q(
      `SELECT rule_id, upstream_code, upstream_connector, match_value, sum(links)::int AS links, sum(amount_at_risk)::float8 AS amount,
              array_agg(DISTINCT downstream_code ORDER BY downstream_code) AS downstream_codes
         FROM ${s.sql} x ${s.scope.clause()} GROUP BY 1, 2, 3, 4 ORDER BY links DESC, amount DESC, 1, 2, 3, 4 LIMIT ${f.limit}`, s);
    return {
      report: 'upstream-causes',
      rows: rows.map((r) => ({
        rule: r.rule_id, upstreamCode: r.upstream_code, upstreamConnector: r.upstream_connector, matchedOn: r.match_value,
        downstreamExceptions: r.links, downstreamAmountAtRisk: round2(r.amount), downstreamCodes: r.downstream_codes.join(' '),
      })),
    };
  }

  async criticalCases(f: ReportFilters): Promise<ReportResult> {
    const s = this.openCases('critical-cases', { ...f, severity: f.severity ?? 'critical' });
    const rows = await this.q(
      `SELECT id, number, title, code, owner_team, site, business_unit, status, opened_at, ack_due_at, resolve_due_at, sla_breached, amount_at_risk::float8 AS amount
         FROM cases ${s.clause()} ORDER BY COALESCE(resolve_due_at, opened_at + interval '100 years'), opened_at LIMIT ${f.limit}`, s);
    return {
      report: 'critical-cases',
      rows: rows.map((r) => ({
        id: r.id, number: Number(r.number), title: r.title, code: r.code, team: r.owner_team, site: r.site, businessUnit: r.business_unit, status: r.status,
        openedAt: iso(r.opened_at), ackDueAt: iso(r.ack_due_at), resolveDueAt: iso(r.resolve_due_at), slaBreached: r.sla_breached ?? (r.resolve_due_at ? new Date(r.resolve_due_at) < new Date() : null),
        amountAtRisk: r.amount === null ? null : round2(r.amount),
      })),
    };
  }
}
