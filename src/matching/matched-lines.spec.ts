import { matchDocuments, type MatchDocument } from './document-match.js';
import { keepLines, keptLinesToMatchLines, matchedLinesRows, type MatchedLinesRow, type StoredDocument } from './matched-lines.js';
import { DEFAULT_MATCHING_POLICY } from './matching-policy.js';

const at = new Date('2026-11-27T12:00:00Z');
const stored = (type: string, payload: Record<string, unknown>, cols: Partial<StoredDocument> = {}): StoredDocument => ({
  id: `doc-${type}`, messageId: 'msg-1', connectorId: 'edi', type, partner: 'acme-supply', poNumber: null, shipmentId: null, invoiceNumber: null,
  testMode: false, receivedAt: at, payload, ...cols,
});
const asMatchDocument = (r: MatchedLinesRow): MatchDocument => ({
  id: r.documentId, messageId: r.messageId, receivedAt: r.receivedAt, type: r.type as MatchDocument['type'], poNumbers: [r.poNumber],
  shipmentId: r.shipmentId ?? undefined, invoiceNumber: r.invoiceNumber ?? undefined, documentDate: r.documentDate ?? undefined,
  dates: r.dates ?? undefined, currency: r.currency ?? undefined, lines: keptLinesToMatchLines(r.lines),
});

describe('matchedLinesRows: what matching keeps of a stored document', () => {
  it('keeps only the line fields the matcher reads, and the PO header it needs for timers', () => {
    const [row, ...more] = matchedLinesRows(stored('purchase_order', {
      poNumber: 'PO-1', poNumbers: ['PO-1'], documentDate: '2026-11-20', currency: 'USD', dates: { cancelAfter: '2026-12-31' }, x12: { segments: ['BEG'] },
      lines: [
        { lineNumber: '1', vendorPart: 'A', quantityOrdered: 10, unitPrice: 2.5, uom: 'EA', description: 'Widget', dates: { requestedDelivery: '2026-12-10' }, parties: [{ role: 'ST' }] },
        { lineNumber: '2', sku: 'B', quantityOrdered: 4, unitPrice: 1, dates: { requestedDelivery: '2026-12-05' } },
      ],
    }, { poNumber: 'PO-1' }));
    expect(more).toEqual([]);
    expect(row).toMatchObject({ documentId: 'doc-purchase_order', poNumber: 'PO-1', partner: 'acme-supply', type: 'purchase_order', documentDate: '2026-11-20',
      currency: 'USD', dates: { cancelAfter: '2026-12-31' }, requestedDelivery: '2026-12-05' });
    // Column by column, only the fields some line carries; back to lines as the matcher reads them.
    expect(row.lines).toEqual({ count: 2, values: { lineNumber: ['1', '2'], sku: [null, 'B'], vendorPart: ['A', null], quantityOrdered: [10, 4], unitPrice: [2.5, 1] } });
    expect(keptLinesToMatchLines(row.lines)).toEqual([{ lineNumber: '1', vendorPart: 'A', quantityOrdered: 10, unitPrice: 2.5 }, { lineNumber: '2', sku: 'B', quantityOrdered: 4, unitPrice: 1 }]);
    // Lines without any matched field still count (an invoice line the matcher cannot place is "not on PO").
    expect(keptLinesToMatchLines(keepLines([{ description: 'freight' }, { sku: 'A', quantityInvoiced: 0 }]))).toEqual([{}, { sku: 'A', quantityInvoiced: 0 }]);
  });

  it('a ship notice for several POs gives one row per PO with that PO\'s lines', () => {
    const rows = matchedLinesRows(stored('ship_notice', {
      shipmentId: 'SH-1', poNumbers: ['PO-1', 'PO-2'],
      lines: [{ vendorPart: 'A', poNumber: 'PO-1', quantityShipped: 5 }, { vendorPart: 'B', poNumber: 'PO-2', quantityShipped: 7 }, { vendorPart: 'C', quantityShipped: 1 }],
    }, { shipmentId: 'SH-1' }));
    expect(rows.map((r) => [r.poNumber, keptLinesToMatchLines(r.lines)])).toEqual([
      ['PO-1', [{ vendorPart: 'A', poNumber: 'PO-1', quantityShipped: 5 }]],
      ['PO-2', [{ vendorPart: 'B', poNumber: 'PO-2', quantityShipped: 7 }]],
    ]);
    // One PO: lines without a PO number belong to it.
    const single = matchedLinesRows(stored('ship_notice', { poNumbers: ['PO-1'], lines: [{ vendorPart: 'A', quantityShipped: 5 }] }, { poNumber: 'PO-1' }));
    expect(single.map((r) => [r.poNumber, r.lines.count])).toEqual([['PO-1', 1]]);
  });

  it('nothing for duplicates the connector flagged, other document types, or documents without partner or PO; no lines for an 855', () => {
    expect(matchedLinesRows(stored('invoice', { duplicate: true, lines: [{ sku: 'A' }] }, { poNumber: 'PO-1' }))).toEqual([]);
    expect(matchedLinesRows(stored('shipment_status', { lines: [] }, { poNumber: 'PO-1' }))).toEqual([]);
    expect(matchedLinesRows(stored('invoice', { lines: [{ sku: 'A' }] }, { poNumber: 'PO-1', partner: null }))).toEqual([]);
    expect(matchedLinesRows(stored('invoice', { lines: [{ sku: 'A' }] }))).toEqual([]);
    expect(matchedLinesRows(stored('po_acknowledgment', { lines: [{ sku: 'A', quantityOrdered: 1 }] }, { poNumber: 'PO-1' })).map((r) => r.lines)).toEqual([{ count: 0, values: {} }]);
  });

  it('matching the kept rows finds what matching the whole documents finds', () => {
    const po = stored('purchase_order', { poNumbers: ['PO-1'], dates: { cancelAfter: '2026-11-26' }, lines: [{ lineNumber: '1', vendorPart: 'A', quantityOrdered: 10, unitPrice: 3, description: 'x' }] }, { poNumber: 'PO-1', id: 'p' });
    const asn = stored('ship_notice', { poNumbers: ['PO-1', 'PO-9'], dates: { shipped: '2026-11-27' }, lines: [{ vendorPart: 'A', poNumber: 'PO-1', quantityShipped: 8 }, { vendorPart: 'Z', poNumber: 'PO-9', quantityShipped: 3 }] }, { shipmentId: 'S', id: 's' });
    const inv = stored('invoice', { currency: 'USD', lines: [{ lineNumber: '1', vendorPart: 'A', quantityInvoiced: 10, unitPrice: 3.5 }] }, { poNumber: 'PO-1', invoiceNumber: 'I', id: 'i' });
    const whole = [po, asn, inv].map((d): MatchDocument => ({
      id: d.id, messageId: d.messageId, receivedAt: d.receivedAt, type: d.type as MatchDocument['type'], poNumbers: d.payload.poNumbers as string[] | undefined,
      shipmentId: d.shipmentId ?? undefined, invoiceNumber: d.invoiceNumber ?? undefined, dates: d.payload.dates as Record<string, string>, currency: d.payload.currency as string | undefined,
      lines: d.payload.lines as MatchDocument['lines'],
    }));
    const kept = [po, asn, inv].flatMap(matchedLinesRows).filter((r) => r.poNumber === 'PO-1').map(asMatchDocument);
    const t = DEFAULT_MATCHING_POLICY.defaults;
    const a = matchDocuments('PO-1', whole, t);
    const b = matchDocuments('PO-1', kept, t);
    expect(b.asn!.findings).toEqual(a.asn!.findings);
    expect(b.asn!.findings.map((f) => f.kind).sort()).toEqual(['shipped_after_cancel', 'short_shipped']);
    expect(b.invoices.map((x) => x.findings)).toEqual(a.invoices.map((x) => x.findings));
  });
});
