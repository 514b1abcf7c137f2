import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SqlScope, type Dimension, type ReportFilters } from './report-filters.js';

const RAW_COLUMNS: Partial<Record<Dimension, string>> = {
  category: 'category', code: 'code', businessUnit: 'business_unit', site: 'site', connector: 'connector_id', step: 'document_type',
  supplier: 'supplier_ref', customer: 'customer_ref',
};
const PAGE = 5000;

/**
 * The raw exceptions behind the reports, for CSV export. Pages by (detected_at, id) on
 * IDX_exceptions_detected so memory stays flat however many rows the range holds.
 */
@Injectable()
export class ExceptionExport {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async *rows(f: ReportFilters): AsyncGenerator<Record<string, unknown>> {
    let after: [Date, string] | null = null;
    for (;;) {
      const s = new SqlScope('export/exceptions', RAW_COLUMNS, f, ['severity']);
      s.and('NOT test_mode').and(`detected_at >= ${s.param(f.from)}`).and(`detected_at < ${s.param(f.to)}`);
      if (f.severity) s.and(`severity = ${s.param(f.severity)}`);
      if (after) s.and(`(detected_at, id) > (${s.param(after[0])}, ${s.param(after[1])}::uuid)`);
      // Raw SQL: keyset pagination over an index; the entity layer would load payloads we do not export.
      const page: Record<string, any>[] = await this.ds.query(
        `SELECT id, detected_at, code, category, severity, title, connector_id, document_type, business_unit, site, order_ref, po_ref,
                customer_ref, supplier_ref, sku, amount_at_risk, currency, case_id
           FROM exceptions ${s.clause()} ORDER BY detected_at, id LIMIT ${PAGE}`, s.params);
      for (const r of page) {
        yield {
          id: r.id, detectedAt: new Date(r.detected_at).toISOString(), code: r.code, category: r.category, severity: r.severity, title: r.title,
          connector: r.connector_id, step: r.document_type, businessUnit: r.business_unit, site: r.site, order: r.order_ref, po: r.po_ref,
          customer: r.customer_ref, supplier: r.supplier_ref, sku: r.sku, amountAtRisk: r.amount_at_risk === null ? null : Number(r.amount_at_risk),
          currency: r.currency, caseId: r.case_id,
        };
      }
      if (page.length < PAGE) return;
      const last = page[page.length - 1];
      after = [last.detected_at, last.id];
    }
  }
}
