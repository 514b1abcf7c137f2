import { BadRequestException } from '@nestjs/common';
import { IANAZone } from 'luxon';
import { z } from 'zod';

/** Dimensions a report can filter and group by; each rollup holds a subset (see ROLLUP_COLUMNS). */
export const DIMENSIONS = ['category', 'code', 'businessUnit', 'site', 'team', 'system', 'connector', 'step', 'supplier', 'customer', 'partner'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

const dim = z.string().trim().min(1).max(128);
const list = (max: number) =>
  z
    .string()
    .max(max)
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

export const ReportQuery = z
  .strictObject({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    tz: z.string().max(64).default('UTC').refine((t) => IANAZone.isValidZone(t), 'not an IANA time zone (e.g. America/Chicago)'),
    bucket: z.enum(['hour', 'day', 'week', 'month']).default('day'),
    groupBy: list(200).pipe(z.array(z.enum(DIMENSIONS)).max(3)).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(20),
    format: z.enum(['json', 'csv']).optional(),
    category: dim.optional(),
    code: dim.optional(),
    businessUnit: dim.optional(),
    site: dim.optional(),
    team: dim.optional(),
    system: dim.optional(),
    connector: dim.optional(),
    step: dim.optional(),
    supplier: dim.optional(),
    customer: dim.optional(),
    partner: dim.optional(),
    severity: z.enum(['info', 'standard', 'critical']).optional(),
  })
  .transform((q, ctx) => {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * 86_400_000);
    if (from >= to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must be before to' });
    if (to.getTime() - from.getTime() > 400 * 86_400_000) ctx.addIssue({ code: 'custom', path: ['from'], message: 'the range may span at most 400 days' });
    return { ...q, from, to };
  });
export type ReportFilters = z.output<typeof ReportQuery>;

/**
 * Builds the WHERE clause and GROUP BY keys of one rollup. A filter or group-by the rollup does
 * not hold is a 400 naming the report and what it supports, never a silently ignored filter.
 */
export class SqlScope {
  readonly params: unknown[] = [];
  readonly where: string[] = [];

  constructor(
    private readonly report: string,
    private readonly columns: Partial<Record<Dimension, string>>,
    private readonly f: ReportFilters,
    extraAllowed: string[] = [],
  ) {
    for (const d of DIMENSIONS) {
      const v = f[d];
      if (v === undefined) continue;
      const col = columns[d];
      if (!col) throw unsupported(report, d, Object.keys(columns));
      this.where.push(`${col} = ${this.param(v)}`);
    }
    if (f.severity !== undefined && !extraAllowed.includes('severity')) throw unsupported(report, 'severity', Object.keys(columns));
  }

  param(v: unknown): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }

  and(cond: string): this {
    this.where.push(cond);
    return this;
  }

  clause(...extra: string[]): string {
    const all = [...this.where, ...extra];
    return all.length ? `WHERE ${all.join(' AND ')}` : '';
  }

  /** SQL expressions for the requested group-by dimensions (or the default), each aliased k0, k1 ... */
  keys(defaults: Dimension[] = []): { dims: Dimension[]; select: string; group: string } {
    const dims = this.f.groupBy?.length ? this.f.groupBy : defaults;
    for (const d of dims) if (!this.columns[d]) throw unsupported(this.report, d, Object.keys(this.columns), 'group by');
    return {
      dims,
      select: dims.map((d, i) => `${this.columns[d]} AS k${i}`).join(', '),
      group: dims.map((_, i) => `k${i}`).join(', '),
    };
  }
}

function unsupported(report: string, what: string, supported: string[], verb = 'filter by'): BadRequestException {
  return new BadRequestException(
    `report ${report} cannot ${verb} ${what}; it supports ${supported.length ? supported.join(', ') : 'no dimensions'}`,
  );
}

/** Rollup columns per dimension (empty string stands for "not known" in rollups). */
export const EXCEPTION_HOURS: Partial<Record<Dimension, string>> = {
  category: 'category', code: 'code', businessUnit: 'business_unit', site: 'site', team: 'team', system: 'system',
  connector: 'connector_id', step: 'step',
};
/** With a supplier or customer in the query, exception figures come from this rollup: only these dimensions. */
export const PARTNER_EXCEPTION_DAYS: Partial<Record<Dimension, string>> = { category: 'category', code: 'code', supplier: 'supplier', customer: 'customer' };
export const CASE_DAYS: Partial<Record<Dimension, string>> = {
  category: 'category', code: 'code', businessUnit: 'business_unit', site: 'site', team: 'team',
};
export const OPEN_CASES: Partial<Record<Dimension, string>> = {
  category: 'category', code: 'code', businessUnit: "COALESCE(business_unit, '')", site: "COALESCE(site, '')", team: 'owner_team',
};
export const INTEGRATION_HOURS: Partial<Record<Dimension, string>> = { connector: 'connector_id' };
export const PARTNER_DAYS: Partial<Record<Dimension, string>> = { partner: 'partner' };
export const ROOT_CAUSE_HOURS: Partial<Record<Dimension, string>> = {
  code: 'downstream_code', businessUnit: 'business_unit', site: 'site', connector: 'upstream_connector', partner: 'match_value',
};
