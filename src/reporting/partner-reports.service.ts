import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PARTNER_DAYS, SqlScope, type ReportFilters } from './report-filters.js';
import { ratio, round2, type ReportResult, type Row } from './report-format.js';

/** Partner reports: scorecards and invoice delay, from report_partner_days and report_partner_exception_days (whole UTC days). */
@Injectable()
export class PartnerReports {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private q(sql: string, s: SqlScope): Promise<Row[]> {
    return this.ds.query(sql, s.params);
  }

  async invoiceDelay(f: ReportFilters): Promise<ReportResult> {
    const p = new SqlScope('invoice-delay', { partner: 'partner', supplier: 'partner' }, f);
    p.and(`day >= (${p.param(f.from)}::timestamptz AT TIME ZONE 'UTC')::date`).and(`day <= (${p.param(f.to)}::timestamptz AT TIME ZONE 'UTC')::date`);
    const e = new SqlScope('invoice-delay', { partner: 'supplier', supplier: 'supplier' }, f);
    e.and(`day >= (${e.param(f.from)}::timestamptz AT TIME ZONE 'UTC')::date`).and(`day <= (${e.param(f.to)}::timestamptz AT TIME ZONE 'UTC')::date`).and(`category = 'FINANCE'`).and(`supplier <> ''`);
    const [docs, ex] = await Promise.all([
      this.q(`SELECT partner, COALESCE(sum(n) FILTER (WHERE metric = 'docs:invoice'), 0)::int AS invoices, COALESCE(sum(n) FILTER (WHERE metric = 'late:invoice'), 0)::int AS late
                FROM report_partner_days ${p.clause()} AND metric IN ('docs:invoice', 'late:invoice') GROUP BY partner`, p),
      this.q(`SELECT supplier AS partner, sum(exceptions)::int AS exceptions, sum(amount_at_risk)::float8 AS amount FROM report_partner_exception_days ${e.clause()} GROUP BY supplier`, e),
    ]);
    const m = new Map<string, Row>();
    for (const d of docs) m.set(d.partner, { partner: d.partner, invoices: d.invoices, lateInvoices: d.late, financeExceptions: 0, amountAtRisk: 0 });
    for (const x of ex) Object.assign(m.get(x.partner) ?? m.set(x.partner, { partner: x.partner, invoices: 0, lateInvoices: 0 }).get(x.partner)!, { financeExceptions: x.exceptions, amountAtRisk: round2(x.amount) });
    const rows = [...m.values()].map((r): Row => ({ ...r, lateRate: ratio(r.lateInvoices, r.invoices) })).sort((a, b) => b.amountAtRisk - a.amountAtRisk || a.partner.localeCompare(b.partner));
    return { report: 'invoice-delay', rows: rows.slice(0, f.limit) };
  }

  async scorecards(f: ReportFilters): Promise<ReportResult> {
    const s = new SqlScope('scorecards', PARTNER_DAYS, f);
    s.and(`day >= (${s.param(f.from)}::timestamptz AT TIME ZONE 'UTC')::date`).and(`day <= (${s.param(f.to)}::timestamptz AT TIME ZONE 'UTC')::date`);
    const rows = await this.q(`SELECT partner, metric, sum(n)::int AS n FROM report_partner_days ${s.clause()} GROUP BY partner, metric`, s);
    const by = new Map<string, Map<string, number>>();
    for (const r of rows) (by.get(r.partner) ?? by.set(r.partner, new Map()).get(r.partner)!).set(r.metric, r.n);
    const out = [...by.entries()].map(([partner, m]) => {
      const g = (k: string) => m.get(k) ?? 0;
      const onTime = (t: string) => ratio(g(`on_time:${t}`), g(`on_time:${t}`) + g(`late:${t}`));
      const docs = [...m.entries()].filter(([k]) => k.startsWith('docs:')).reduce((a, [, v]) => a + v, 0);
      return {
        partner, documents: docs, onTime855: onTime('po_acknowledgment'), onTime856: onTime('ship_notice'), onTime810: onTime('invoice'),
        acks: g('docs:functional_ack') + g('docs:technical_ack'), rejectedAckRate: ratio(g('rejected_acks'), g('docs:functional_ack') + g('docs:technical_ack')),
        exceptions: g('exceptions'), exceptionsPer100Documents: docs ? round2((100 * g('exceptions')) / docs) : null,
      };
    });
    out.sort((a, b) => b.documents - a.documents || a.partner.localeCompare(b.partner));
    return { report: 'scorecards', rows: out.slice(0, f.limit) };
  }
}
