import { BadRequestException } from '@nestjs/common';
import { DateTime, IANAZone } from 'luxon';
import {
  CASE_DAYS, DIMENSIONS, EXCEPTION_HOURS, INTEGRATION_HOURS, PARTNER_EXCEPTION_DAYS, ROOT_CAUSE_HOURS, SqlScope, type Dimension, type ReportFilters,
} from './report-filters.js';

const HOUR = 3600_000;
const DAY = 86_400_000;
/** Ranges that must be read hour by hour (hour buckets, or buckets in a zone other than UTC) are capped. */
export const MAX_HOURLY_DAYS = 92;

/**
 * Where a report reads its rows from: a subquery over the rollups that covers [from, to) with as
 * few rows as possible, plus the scope that filters it. Each range is cut into spans of whole UTC
 * months (month rollup), whole UTC days (day rollup) and hours (hour rollup, for the ragged ends and
 * for days that a time bucket splits). Exception, integration and root-cause ranges are exact to the
 * hour; case ranges are the whole UTC days touching [from, to).
 */
export interface Source {
  sql: string;
  scope: SqlScope;
}

export type Level = 'hour' | 'day' | 'month';
/** [from, to) in epoch ms, read from one level; an hour span's end may fall inside an hour (rows with bucket < to). */
export interface Span {
  level: Level;
  from: number;
  to: number;
}

const nextMonth = (t: number) => {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};
const isMonthStart = (t: number) => t % DAY === 0 && new Date(t).getUTCDate() === 1;

/**
 * Cuts [from, to) into spans: from an hour boundary, whole UTC months where `months` allows, whole UTC
 * days where `dayFits(dayStart)` holds, hours elsewhere. Adjacent spans of one level are merged.
 */
export function cover(from: number, to: number, o: { months: boolean; dayFits: (dayStart: number) => boolean }): Span[] {
  const spans: Span[] = [];
  const add = (level: Level, a: number, b: number) => {
    const last = spans[spans.length - 1];
    if (last && last.level === level && last.to === a) last.to = b;
    else spans.push({ level, from: a, to: b });
  };
  let t = Math.floor(from / HOUR) * HOUR;
  while (t < to) {
    const dayEnd = Math.floor(t / DAY) * DAY + DAY;
    if (t % DAY === 0) {
      if (o.months && isMonthStart(t) && nextMonth(t) <= to) {
        add('month', t, (t = nextMonth(t)));
        continue;
      }
      if (dayEnd <= to && o.dayFits(t)) {
        add('day', t, (t = dayEnd));
        continue;
      }
    }
    add('hour', t, (t = Math.min(dayEnd, to)));
  }
  return spans;
}

/**
 * Whether a UTC day's rows may stand for its hours in a bucketed report: every hour of the day falls in
 * one time bucket. Within a day with one UTC offset local time moves with UTC, so the first and the last
 * hour decide; a day with an offset change (DST) is read hour by hour.
 */
export function dayFitsBucket(bucket: ReportFilters['bucket'], tz: string): (dayStart: number) => boolean {
  if (bucket === 'hour') return () => false;
  if (tz === 'UTC') return () => true;
  const zone = IANAZone.create(tz);
  const unit = bucket;
  return (t) => {
    const last = t + DAY - HOUR;
    if (zone.offset(t) !== zone.offset(last)) return false;
    return DateTime.fromMillis(t, { zone }).startOf(unit).toMillis() === DateTime.fromMillis(last, { zone }).startOf(unit).toMillis();
  };
}

interface Family {
  hours?: string;
  days: string;
  months?: string;
  columns: string;
}

const EXCEPTIONS: Family = {
  hours: 'report_exception_hours', days: 'report_exception_days', months: 'report_exception_months',
  columns: 'category, code, business_unit, site, team, connector_id, system, step, exceptions, repeats, critical, amount_at_risk',
};
const INTEGRATION: Family = { hours: 'report_integration_hours', days: 'report_integration_days', columns: 'connector_id, kind, n' };
const ROOT_CAUSES: Family = {
  hours: 'report_root_cause_hours', days: 'report_root_cause_days', months: 'report_root_cause_months',
  columns: 'rule_id, upstream_code, upstream_connector, match_value, downstream_code, business_unit, site, links, amount_at_risk',
};
/** Case counts and sums (no cycle-time bin). */
const CASE_TOTALS: Family = {
  days: 'report_case_totals_days', months: 'report_case_totals_months',
  columns: 'metric, category, code, business_unit, site, team, cases, breached, sla_tracked, touches, amount_at_risk',
};
/** Acknowledge/resolve cycle-time histograms, for percentiles only. */
const CASE_BINS: Family = { days: 'report_case_days', months: 'report_case_months', columns: 'metric, bin, category, code, business_unit, site, team, cases' };
/** The same by team alone: a third of the day rows, a tenth of the month rows. */
const CASE_TEAM_BINS: Family = { days: 'report_case_team_days', months: 'report_case_team_months', columns: 'metric, bin, team, cases' };

/** One scan per level, each over the OR of its spans (index range scans on the rollup's leading time key). */
function unionOf(scope: SqlScope, fam: Family, spans: Span[]): string {
  const p = (v: unknown) => scope.param(v);
  const date = (t: number) => `${p(new Date(t).toISOString().slice(0, 10))}::date`;
  const parts: string[] = [];
  const of = (level: Level) => spans.filter((s) => s.level === level);
  const hours = of('hour');
  if (hours.length) {
    parts.push(`SELECT ${fam.columns}, bucket AS ts FROM ${fam.hours} WHERE ${hours.map((s) => `(bucket >= ${p(new Date(s.from))} AND bucket < ${p(new Date(s.to))})`).join(' OR ')}`);
  }
  for (const [level, table, key] of [['day', fam.days, 'day'], ['month', fam.months, 'month']] as const) {
    const xs = of(level);
    if (xs.length) parts.push(`SELECT ${fam.columns}, ${key}::timestamp AT TIME ZONE 'UTC' AS ts FROM ${table} WHERE ${xs.map((s) => `(${key} >= ${date(s.from)} AND ${key} < ${date(s.to)})`).join(' OR ')}`);
  }
  if (!parts.length) parts.push(`SELECT ${fam.columns}, NULL::timestamptz AS ts FROM ${fam.days} WHERE false`);
  return `(${parts.join(' UNION ALL ')})`;
}

const usesPartner = (f: ReportFilters) => !!(f.supplier || f.customer || f.groupBy?.some((d) => d === 'supplier' || d === 'customer'));

function hourly(f: ReportFilters, bucketed: boolean): boolean {
  return bucketed && (f.bucket === 'hour' || f.tz !== 'UTC');
}

function capHourly(report: string, f: ReportFilters) {
  if (f.to.getTime() - f.from.getTime() > MAX_HOURLY_DAYS * DAY) {
    throw new BadRequestException(
      `report ${report}: ${f.bucket === 'hour' ? 'hour buckets' : `buckets in ${f.tz}`} are computed from hourly rollups, for ranges up to ${MAX_HOURLY_DAYS} days; shorten the range or use tz=UTC with day, week or month buckets`,
    );
  }
}

/** An hour-exact family: unbucketed reports take months and days wherever they fit; bucketed ones only units inside one bucket. */
function hourExact(report: string, f: ReportFilters, bucketed: boolean, dims: Partial<Record<Dimension, string>>, fam: Family): Source {
  if (hourly(f, bucketed)) capHourly(report, f);
  const scope = new SqlScope(report, dims, f);
  const months = !!fam.months && (!bucketed || (f.bucket === 'month' && f.tz === 'UTC'));
  const spans = cover(f.from.getTime(), f.to.getTime(), { months, dayFits: bucketed ? dayFitsBucket(f.bucket, f.tz) : () => true });
  return { scope, sql: unionOf(scope, fam, spans) };
}

export function exceptionSource(report: string, f: ReportFilters, bucketed: boolean): Source {
  if (usesPartner(f)) {
    if (hourly(f, bucketed)) throw new BadRequestException(`report ${report}: supplier and customer figures are kept per UTC day; use tz=UTC with day, week or month buckets`);
    const scope = new SqlScope(report, PARTNER_EXCEPTION_DAYS, f);
    const sql = `(SELECT *, day::timestamp AT TIME ZONE 'UTC' AS ts FROM report_partner_exception_days
                   WHERE day >= (${scope.param(f.from)}::timestamptz AT TIME ZONE 'UTC')::date AND day <= (${scope.param(f.to)}::timestamptz AT TIME ZONE 'UTC')::date)`;
    return { sql, scope };
  }
  return hourExact(report, f, bucketed, EXCEPTION_HOURS, EXCEPTIONS);
}

export function integrationSource(report: string, f: ReportFilters, bucketed: boolean): Source {
  return hourExact(report, f, bucketed, INTEGRATION_HOURS, INTEGRATION);
}

/** Root-cause links by the downstream exception's detection time. */
export function rootCauseSource(report: string, f: ReportFilters): Source {
  return hourExact(report, f, false, ROOT_CAUSE_HOURS, ROOT_CAUSES);
}

/**
 * Case outcomes for the UTC days touching [from, to): whole months and the remaining days. `totals`
 * for counts and sums; `bins` (acknowledge/resolve cycle-time histograms) only where percentiles need
 * them, by team alone when the request filters and groups by nothing else.
 */
export function caseSource(report: string, f: ReportFilters, kind: 'totals' | 'bins'): Source {
  const scope = new SqlScope(report, CASE_DAYS, f);
  const fromDay = Math.floor(f.from.getTime() / DAY) * DAY;
  const afterTo = Math.floor(f.to.getTime() / DAY) * DAY + DAY; // the day of `to` counts
  const spans = cover(fromDay, afterTo, { months: true, dayFits: () => true });
  const dims = [...DIMENSIONS.filter((d) => f[d] !== undefined), ...(f.groupBy ?? [])];
  const family = kind === 'totals' ? CASE_TOTALS : dims.every((d) => d === 'team') ? CASE_TEAM_BINS : CASE_BINS;
  return { scope, sql: unionOf(scope, family, spans) };
}
