import { fingerprint, matchDocuments, quantityAllowance, type MatchDocument, type MatchLine } from './document-match.js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_MATCHING_POLICY, loadMatchingPolicy, parseMatchingPolicy, tolerancesFor, type Tolerances } from './matching-policy.js';

const T: Tolerances = { quantity: { absolute: 2, percent: 5 }, unitPricePercent: 2, totalAmount: 10, currency: 'USD', ackWindowHours: 24, asnLeadHours: 0 };
const ZERO = DEFAULT_MATCHING_POLICY.defaults;
let seq = 0;
const at = (n: number) => new Date(Date.UTC(2026, 10, 1, 0, n));
const doc = (type: MatchDocument['type'], lines: MatchLine[], extra: Partial<MatchDocument> = {}): MatchDocument => ({
  id: `d${++seq}`, messageId: `m${seq}`, receivedAt: at(seq), type, poNumbers: ['PO-1'], lines, ...extra,
});
const po = (lines: [string, number, number][], extra: Partial<MatchDocument> = {}) =>
  doc('purchase_order', lines.map(([sku, q, p], i) => ({ lineNumber: String(i + 1), vendorPart: sku, quantityOrdered: q, unitPrice: p })), extra);
const asn = (id: string, lines: [string, number][], extra: Partial<MatchDocument> = {}) =>
  doc('ship_notice', lines.map(([sku, q], i) => ({ lineNumber: String(i + 1), vendorPart: sku, quantityShipped: q })), { shipmentId: id, ...extra });
const inv = (n: string, lines: [string, number, number][]) =>
  doc('invoice', lines.map(([sku, q, p], i) => ({ lineNumber: String(i + 1), vendorPart: sku, quantityInvoiced: q, unitPrice: p })), { invoiceNumber: n });
const kinds = (fs: { kind: string }[]) => fs.map((f) => f.kind);

describe('matchDocuments: ship notices against the purchase order', () => {
  it('quantity tolerance: the larger of absolute and percent; exactly at the edge passes, just over fails', () => {
    expect(quantityAllowance(100, T)).toBe(5);
    expect(quantityAllowance(10, T)).toBe(2);
    const order = po([['A', 100, 3]]);
    expect(matchDocuments('PO-1', [order, asn('S1', [['A', 95]])], T).asn!.findings).toEqual([]);
    expect(matchDocuments('PO-1', [order, asn('S1', [['A', 105]])], T).asn!.findings).toEqual([]);
    const short = matchDocuments('PO-1', [order, asn('S1', [['A', 94.9]])], T).asn!;
    expect(short.findings).toEqual([{ kind: 'short_shipped', line: '1', sku: 'A', expected: 100, actual: 94.9, difference: expect.closeTo(-5.1, 9), allowed: 5, unitPrice: 3, amountAtRisk: 15.3 }]);
    expect(kinds(matchDocuments('PO-1', [order, asn('S1', [['A', 105.1]])], T).asn!.findings)).toEqual(['over_shipped']);
    // Small quantities: the absolute allowance (2) is larger than 5 % of 10.
    const small = po([['A', 10, 1]]);
    expect(matchDocuments('PO-1', [small, asn('S1', [['A', 8]])], T).asn!.findings).toEqual([]);
    expect(kinds(matchDocuments('PO-1', [small, asn('S1', [['A', 7]])], T).asn!.findings)).toEqual(['short_shipped']);
  });

  it('zero tolerance: any difference is a mismatch', () => {
    expect(kinds(matchDocuments('PO-1', [po([['A', 10, 1]]), asn('S1', [['A', 9]])], ZERO).asn!.findings)).toEqual(['short_shipped']);
  });

  it('PO unknown, SKU not on the PO, shipped after the cancel date', () => {
    expect(matchDocuments('PO-1', [asn('S1', [['A', 1]])], T).asn!.findings).toEqual([{ kind: 'po_unknown', amountAtRisk: 0 }]);
    const order = po([['A', 10, 2]], { dates: { cancelAfter: '2026-11-20' } });
    const r = matchDocuments('PO-1', [order, asn('S1', [['A', 10], ['Z', 4]], { dates: { shipped: '2026-11-21' } })], T).asn!;
    expect(kinds(r.findings)).toEqual(['sku_not_on_po', 'shipped_after_cancel']);
    expect(r.findings[1]).toMatchObject({ shippedOn: '2026-11-21', cancelAfter: '2026-11-20', amountAtRisk: 20 });
    // Shipped on the cancel date itself is in time.
    expect(matchDocuments('PO-1', [order, asn('S1', [['A', 10]], { dates: { shipped: '2026-11-20' } })], T).asn!.findings).toEqual([]);
  });

  it('lines match by any product id, or by line number when the line has none', () => {
    const order = doc('purchase_order', [{ lineNumber: '1', sku: 'S-1', upc: '0001', quantityOrdered: 5 }, { lineNumber: '2', quantityOrdered: 3 }]);
    const ship = doc('ship_notice', [{ upc: '0001', quantityShipped: 5 }, { lineNumber: '2', quantityShipped: 3 }], { shipmentId: 'S1' });
    expect(matchDocuments('PO-1', [order, ship], ZERO).asn!.findings).toEqual([]);
  });

  it('a replacement ship notice (same shipment id) supersedes the earlier one; other shipments add up', () => {
    const order = po([['A', 10, 1]]);
    const first = asn('S1', [['A', 4]]);
    const replacement = asn('S1', [['A', 6]]);
    expect(kinds(matchDocuments('PO-1', [order, first], ZERO).asn!.findings)).toEqual(['short_shipped']);
    expect(kinds(matchDocuments('PO-1', [order, first, replacement], ZERO).asn!.findings)).toEqual(['short_shipped']);
    expect(matchDocuments('PO-1', [order, first, replacement, asn('S2', [['A', 4]])], ZERO).asn!.findings).toEqual([]);
  });

  it('a multi-PO ship notice counts only the lines of this PO', () => {
    const ship = doc('ship_notice', [{ vendorPart: 'A', poNumber: 'PO-1', quantityShipped: 10 }, { vendorPart: 'A', poNumber: 'PO-2', quantityShipped: 99 }], { shipmentId: 'S1', poNumbers: ['PO-1', 'PO-2'] });
    expect(matchDocuments('PO-1', [po([['A', 10, 1]]), ship], ZERO).asn!.findings).toEqual([]);
  });
});

describe('matchDocuments: invoices', () => {
  it('2-way: unit price at exactly the percent passes, just over fails; quantity against ordered', () => {
    const order = po([['A', 100, 10]]);
    expect(matchDocuments('PO-1', [order, inv('I1', [['A', 100, 10.2]])], { ...T, totalAmount: 100 }).invoices[0].findings).toEqual([]);
    const over = matchDocuments('PO-1', [order, inv('I1', [['A', 100, 10.21]])], { ...T, totalAmount: 100 }).invoices[0];
    expect(over).toMatchObject({ mode: '2-way', findings: [{ kind: 'unit_price', expected: 10, actual: 10.21, difference: 0.21, amountAtRisk: 21 }] });
    expect(kinds(matchDocuments('PO-1', [order, inv('I1', [['A', 106, 10]])], { ...T, totalAmount: 100 }).invoices[0].findings)).toEqual(['quantity_vs_ordered']);
  });

  it('total amount: exactly at the allowance passes, one cent over fails', () => {
    const order = po([['A', 10, 10]]);
    const t = { ...T, unitPricePercent: 100, totalAmount: 10 };
    expect(matchDocuments('PO-1', [order, inv('I1', [['A', 10, 11]])], t).invoices[0].findings).toEqual([]);
    const r = matchDocuments('PO-1', [order, inv('I1', [['A', 10, 11.001]])], t).invoices[0];
    expect(r.findings).toEqual([{ kind: 'total_amount', expected: 100, actual: 110.01, difference: 10.01, allowed: 10, amountAtRisk: 10.01 }]);
    expect(r.amountAtRisk).toBe(10.01);
  });

  it('3-way when a ship notice exists: quantity against shipped, not ordered', () => {
    const order = po([['A', 100, 1]]);
    const ship = asn('S1', [['A', 50]]);
    const r = matchDocuments('PO-1', [order, ship, inv('I1', [['A', 50, 1]])], ZERO);
    expect(r.invoices[0]).toMatchObject({ mode: '3-way', findings: [] });
    const billedMore = matchDocuments('PO-1', [order, ship, inv('I1', [['A', 60, 1]])], ZERO).invoices[0];
    expect(billedMore.findings[0]).toMatchObject({ kind: 'quantity_vs_shipped', expected: 50, actual: 60, amountAtRisk: 10 });
  });

  it('invoice for an unknown PO or with a line not on the PO', () => {
    expect(matchDocuments('PO-1', [inv('I1', [['A', 2, 5]])], T).invoices[0]).toMatchObject({ findings: [{ kind: 'po_unknown', amountAtRisk: 10 }], amountAtRisk: 10 });
    expect(kinds(matchDocuments('PO-1', [po([['A', 1, 1]]), inv('I1', [['A', 1, 1], ['Q', 1, 50]])], T).invoices[0].findings)).toEqual(['not_on_po', 'total_amount']);
  });

  it('a corrected invoice (same number, newer) replaces the first', () => {
    const order = po([['A', 10, 10]]);
    const r = matchDocuments('PO-1', [order, inv('I1', [['A', 10, 12]]), inv('I1', [['A', 10, 10]])], ZERO);
    expect(r.invoices).toHaveLength(1);
    expect(r.invoices[0].findings).toEqual([]);
  });
});

describe('fingerprint and policy', () => {
  it('fingerprint ignores order and amounts, changes with quantities', () => {
    const a = { kind: 'short_shipped', line: '1', expected: 5, actual: 4, amountAtRisk: 1 };
    const b = { kind: 'sku_not_on_po', sku: 'Z', actual: 1, amountAtRisk: 0 };
    expect(fingerprint([a, b])).toBe(fingerprint([b, { ...a, amountAtRisk: 9 }]));
    expect(fingerprint([a])).not.toBe(fingerprint([{ ...a, actual: 3 }]));
  });

  it('a partner entry overrides only what it names; bad policies fail with the path', () => {
    const p = parseMatchingPolicy({ version: '1.0.0', defaults: T, partners: { acme: { quantity: { percent: 1 }, ackWindowHours: null } } }, 'x.json');
    expect(tolerancesFor(p, 'acme')).toEqual({ ...T, quantity: { absolute: 0, percent: 1 }, ackWindowHours: null });
    expect(tolerancesFor(p, 'other')).toEqual(T);
    expect(() => parseMatchingPolicy({ version: '1.0.0', defaults: { ...T, unitPricePercent: -1 } }, 'x.json')).toThrow(/x\.json: defaults\.unitPricePercent: .*fix the matching policy file/);
  });

  it('loads the newest version folder; a broken file is one ConfigError line naming the file and field', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'matching-policy-'));
    await expect(loadMatchingPolicy(dir)).resolves.toBe(DEFAULT_MATCHING_POLICY);
    for (const v of ['1.0.0', '1.10.0', '1.9.0']) {
      mkdirSync(path.join(dir, 'matching', v), { recursive: true });
      writeFileSync(path.join(dir, 'matching', v, 'matching.json'), JSON.stringify({ version: v, defaults: T }));
    }
    expect((await loadMatchingPolicy(dir)).version).toBe('1.10.0');
    writeFileSync(path.join(dir, 'matching', '1.10.0', 'matching.json'), JSON.stringify({ version: '1.10.0', defaults: { ...T, currency: 'dollars' } }));
    await expect(loadMatchingPolicy(dir)).rejects.toThrow(/1\.10\.0\/matching\.json: defaults\.currency: must be an ISO 4217 code/);
    writeFileSync(path.join(dir, 'matching', '1.10.0', 'matching.json'), '{ not json');
    await expect(loadMatchingPolicy(dir)).rejects.toMatchObject({ name: expect.stringMatching(/ConfigError|Error/) });
  });
});
