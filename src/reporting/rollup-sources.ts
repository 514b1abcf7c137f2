import { BadRequestException } from '@nestjs/common';
import {
  CASE_DAYS, EXCEPTION_HOURS, INTEGRATION_HOURS, PARTNER_EXCEPTION_DAYS, SqlScope, type Dimension, type ReportFilters,
} from './report-filters.js';

const HOUR = 3600_000;
const DAY = 86_400_000;
/** Ranges that must be read hour by hour (hour buckets, or day buckets in a zone other than UTC) are capped. */
export const MAX_HOURLY_DAYS = 92;

/**
 * Where a report reads its rows from: a subquery over the rollups that covers [from, to) with as
 * few rows as possible, plus the scope that filters it. Exception and integration ranges are exact
 * to the hour: whole UTC days come from the day rollup, the ragged ends from the hour rollup. Case
 * ranges are whole UTC days: whole months from the month rollup, the ends from the day rollup.
 */
export interface Source {
  sql: string;
  scope: SqlScope;
}

const usesPartner = (f: ReportFilters) => !!(f.supplier || f.customer || f.groupBy?.some((d) => d === 'supplier' || d === 'customer'));

/** Split [from, to) into hour-rollup ends and a middle of whole UTC days. */
function split(f: ReportFilters) {
  const fromHour = new Date(Math.floor(f.from.getTime() / HOUR) * HOUR);
  const d1 = new Date(Math.ceil(fromHour.getTime() / DAY) * DAY);
  const d2 = new Date(Math.floor(f.to.getTime() / DAY) * DAY);
  return { fromHour, d1, d2, days: d1 < d2 };
}

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

export function exceptionSource(report: string, f: ReportFilters, bucketed: boolean): Source {
  if (usesPartner(f)) {
    if (hourly(f, bucketed)) throw new BadRequestException(`report ${report}: supplier and customer figures are kept per UTC day; use tz=UTC with day, week or month buckets`);
    const scope = new SqlScope(report, PARTNER_EXCEPTION_DAYS, f);
    const sql = `(SELECT *, day::timestamp AT TIME ZONE 'UTC' AS ts FROM report_partner_exception_days
                   WHERE day >= (${scope.param(f.from)}::timestamptz AT TIME ZONE 'UTC')::date AND day <= (${scope.param(f.to)}::timestamptz AT TIME ZONE 'UTC')::date)`;
    return { sql, scope };
  }
  return twoLevel(report, f, bucketed, EXCEPTION_HOURS, 'report_exception_hours', 'report_exception_days',
    'category, code, business_unit, site, team, connector_id, system, step, exceptions, repeats, critical, amount_at_risk');
}

export function integrationSource(report: string, f: ReportFilters, bucketed: boolean): Source {
  return twoLevel(report, f, bucketed, INTEGRATION_HOURS, 'report_integration_hours', 'report_integration_days', 'connector_id, kind, n');
}

function twoLevel(report: string, f: ReportFilters, bucketed: boolean, cols: Partial<Record<Dimension, string>>, hours: string, days: string, columns: string): Source {
  const scope = new SqlScope(report, cols, f);
  const p = (v: unknown) => scope.param(v);
  const { fromHour, d1, d2, days: useDays } = split(f);
  if (hourly(f, bucketed) || !useDays) {
    if (hourly(f, bucketed)) capHourly(report, f);
    return { scope, sql: `(SELECT ${columns}, bucket AS ts FROM ${hours} WHERE bucket >= ${p(fromHour)} AND bucket < ${p(f.to)})` };
  }
  const a = p(fromHour), b = p(d1), c = p(d2), e = p(f.to);
  return {
    scope,
    sql: `(SELECT ${columns}, bucket AS ts FROM ${hours} WHERE bucket >= ${a} AND bucket < ${b}
           UNION ALL SELECT ${columns}, day::timestamp AT TIME ZONE 'UTC' AS ts FROM ${days} WHERE day >= (${b}::timestamptz AT TIME ZONE 'UTC')::date AND day < (${c}::timestamptz AT TIME ZONE 'UTC')::date
           UNION ALL SELECT ${columns}, bucket AS ts FROM ${hours} WHERE bucket >= ${c} AND bucket < ${e})`,
  };
}

/** Case outcomes for the UTC days touching [from, to): whole months from report_case_months, the ends from report_case_days. */
export function caseSource(report: string, f: ReportFilters): Source {
  const scope = new SqlScope(report, CASE_DAYS, f);
  const p = (v: unknown) => scope.param(v);
  const cols = 'metric, bin, category, code, business_unit, site, team, cases, breached, sla_tracked, touches, amount_at_risk';
  const fromDay = new Date(Math.floor(f.from.getTime() / DAY) * DAY);
  const toDay = new Date(Math.floor(f.to.getTime() / DAY) * DAY); // inclusive
  const m1 = new Date(Date.UTC(fromDay.getUTCFullYear(), fromDay.getUTCMonth() + (fromDay.getUTCDate() === 1 ? 0 : 1), 1));
  const afterTo = new Date(toDay.getTime() + DAY);
  const m2 = new Date(Date.UTC(afterTo.getUTCFullYear(), afterTo.getUTCMonth(), 1));
  const d = (x: Date) => `${p(x.toISOString().slice(0, 10))}::date`;
  if (m1 >= m2) return { scope, sql: `(SELECT ${cols} FROM report_case_days WHERE day >= ${d(fromDay)} AND day <= ${d(toDay)})` };
  const m1s = d(m1), m2s = d(m2);
  return {
    scope,
    sql: `(SELECT ${cols} FROM report_case_days WHERE (day >= ${d(fromDay)} AND day < ${m1s}) OR (day >= ${m2s} AND day <= ${d(toDay)})
           UNION ALL SELECT ${cols} FROM report_case_months WHERE month >= ${m1s} AND month < ${m2s})`,
  };
}
