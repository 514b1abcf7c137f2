import type { Tolerances } from './matching-policy.js';

/**
 * Pure three-way matching of one partner's purchase order with its ship notices and invoices.
 * No I/O: the service loads the documents, this decides what differs and by how much.
 */

/** The parts of a canonical line the matcher reads (purchase order, ship notice and invoice lines share them). */
export interface MatchLine {
  lineNumber?: string;
  sku?: string;
  vendorPart?: string;
  buyerPart?: string;
  upc?: string;
  gtin?: string;
  ean?: string;
  poNumber?: string;
  quantityOrdered?: number;
  quantityShipped?: number;
  quantityInvoiced?: number;
  unitPrice?: number;
}

export interface MatchDocument {
  id: string;
  messageId: string;
  receivedAt: Date;
  type: 'purchase_order' | 'ship_notice' | 'invoice';
  poNumbers?: string[];
  shipmentId?: string;
  invoiceNumber?: string;
  documentDate?: string;
  dates?: Record<string, string | undefined>;
  currency?: string;
  lines: MatchLine[];
}

export type AsnFindingKind = 'po_unknown' | 'short_shipped' | 'over_shipped' | 'sku_not_on_po' | 'shipped_after_cancel';
export type InvoiceFindingKind = 'po_unknown' | 'not_on_po' | 'unit_price' | 'quantity_vs_ordered' | 'quantity_vs_shipped' | 'total_amount';

export interface LineDifference<K extends string> {
  kind: K;
  /** PO line number (or the document's own line number when not on the PO). */
  line?: string;
  sku?: string;
  expected?: number;
  actual?: number;
  difference?: number;
  /** What the tolerance allowed for this comparison. */
  allowed?: number;
  unitPrice?: number;
  shipmentId?: string;
  shippedOn?: string;
  cancelAfter?: string;
  amountAtRisk: number;
}

export interface AsnResult {
  findings: LineDifference<AsnFindingKind>[];
  amountAtRisk: number;
  shipmentIds: string[];
  /** The newest ship notice considered: exceptions are recorded against its message. */
  latest: MatchDocument;
}

export interface InvoiceResult {
  invoiceNumber: string;
  mode: '2-way' | '3-way';
  findings: LineDifference<InvoiceFindingKind>[];
  invoiceTotal: number;
  expectedTotal: number;
  amountAtRisk: number;
  invoice: MatchDocument;
}

export interface MatchOutcome {
  po: MatchDocument | null;
  asn: AsnResult | null;
  invoices: InvoiceResult[];
}

const EPS = 1e-9;
const money = (n: number) => Math.round(n * 100) / 100;
const PRODUCT_KEYS = ['sku', 'vendorPart', 'buyerPart', 'upc', 'gtin', 'ean'] as const;

/** The largest difference the tolerance allows from `expected`: the absolute or the percent allowance, whichever is larger. */
export function quantityAllowance(expected: number, t: Tolerances): number {
  return Math.max(t.quantity.absolute, (Math.abs(expected) * t.quantity.percent) / 100);
}

/** Newest wins: a replacement document (same shipment id / invoice number) supersedes the earlier one. */
export function newestBy<D extends { id: string; receivedAt: Date }>(docs: D[], key: (d: D) => string): D[] {
  const byKey = new Map<string, D>();
  for (const d of [...docs].sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || (a.id < b.id ? -1 : 1))) byKey.set(key(d), d);
  return [...byKey.values()];
}

/** Finds the PO line for a line: by any product id, else by line number when the line carries no product id. */
class PoLineIndex {
  private readonly byId = new Map<string, number>();
  private readonly byNumber = new Map<string, number>();
  constructor(readonly lines: MatchLine[]) {
    lines.forEach((l, i) => {
      for (const k of PRODUCT_KEYS) if (l[k] && !this.byId.has(l[k]!)) this.byId.set(l[k]!, i);
      if (l.lineNumber && !this.byNumber.has(l.lineNumber)) this.byNumber.set(l.lineNumber, i);
    });
  }
  find(l: MatchLine): number | undefined {
    let hasId = false;
    for (const k of PRODUCT_KEYS) {
      const v = l[k];
      if (!v) continue;
      hasId = true;
      const i = this.byId.get(v);
      if (i !== undefined) return i;
    }
    return !hasId && l.lineNumber ? this.byNumber.get(l.lineNumber) : undefined;
  }
}

const skuOf = (l: MatchLine) => l.sku ?? l.vendorPart ?? l.buyerPart ?? l.upc ?? l.gtin ?? l.ean;

/** Ship notice lines that belong to this PO (a multi-PO notice names the PO per line). */
function linesFor(doc: MatchDocument, poNumber: string): MatchLine[] {
  const single = (doc.poNumbers ?? []).length <= 1;
  return doc.lines.filter((l) => (l.poNumber ? l.poNumber === poNumber : single));
}

export function matchDocuments(poNumber: string, docs: MatchDocument[], t: Tolerances): MatchOutcome {
  const pos = docs.filter((d) => d.type === 'purchase_order');
  const po = pos.length ? newestBy(pos, () => 'po')[0] : null;
  const asns = newestBy(docs.filter((d) => d.type === 'ship_notice'), (d) => d.shipmentId ?? d.id);
  const invoices = newestBy(docs.filter((d) => d.type === 'invoice'), (d) => d.invoiceNumber ?? d.id);
  const index = po ? new PoLineIndex(po.lines) : null;

  // Shipped per PO line, over every current ship notice for this PO.
  const shipped = new Map<number, number>();
  const asnFindings: LineDifference<AsnFindingKind>[] = [];
  for (const asn of asns) {
    for (const l of linesFor(asn, poNumber)) {
      if (!index) continue;
      const i = index.find(l);
      if (i === undefined) {
        const qty = l.quantityShipped ?? 0;
        asnFindings.push({ kind: 'sku_not_on_po', line: l.lineNumber, sku: skuOf(l), actual: qty, shipmentId: asn.shipmentId, amountAtRisk: money(qty * (l.unitPrice ?? 0)) });
      } else shipped.set(i, (shipped.get(i) ?? 0) + (l.quantityShipped ?? 0));
    }
  }

  let asn: AsnResult | null = null;
  if (asns.length) {
    const latest = asns.reduce((a, b) => (b.receivedAt >= a.receivedAt ? b : a));
    if (!po) {
      asnFindings.push({ kind: 'po_unknown', amountAtRisk: 0 });
    } else {
      po.lines.forEach((pl, i) => {
        if (pl.quantityOrdered === undefined) return;
        const got = shipped.get(i) ?? 0;
        const diff = got - pl.quantityOrdered;
        const allowed = quantityAllowance(pl.quantityOrdered, t);
        if (Math.abs(diff) <= allowed + EPS) return;
        asnFindings.push({
          kind: diff < 0 ? 'short_shipped' : 'over_shipped', line: pl.lineNumber, sku: skuOf(pl), expected: pl.quantityOrdered, actual: got,
          difference: diff, allowed, unitPrice: pl.unitPrice, amountAtRisk: money(Math.abs(diff) * (pl.unitPrice ?? 0)),
        });
      });
      const cancelAfter = po.dates?.cancelAfter;
      if (cancelAfter) {
        for (const a of asns) {
          const shippedOn = a.dates?.shipped ?? a.documentDate;
          if (!shippedOn || shippedOn <= cancelAfter) continue;
          const value = linesFor(a, poNumber).reduce((s, l) => {
            const i = index!.find(l);
            return s + (l.quantityShipped ?? 0) * (i === undefined ? 0 : (po.lines[i].unitPrice ?? 0));
          }, 0);
          asnFindings.push({ kind: 'shipped_after_cancel', shipmentId: a.shipmentId, shippedOn, cancelAfter, amountAtRisk: money(value) });
        }
      }
    }
    asn = {
      findings: asnFindings,
      amountAtRisk: money(asnFindings.reduce((s, f) => s + f.amountAtRisk, 0)),
      shipmentIds: asns.map((a) => a.shipmentId ?? a.id),
      latest,
    };
  }

  const threeWay = asns.length > 0 && po !== null;
  const results = invoices.map((inv) => matchInvoice(inv, po, index, threeWay ? shipped : null, t));
  return { po, asn, invoices: results };
}

function matchInvoice(inv: MatchDocument, po: MatchDocument | null, index: PoLineIndex | null, shipped: Map<number, number> | null, t: Tolerances): InvoiceResult {
  const findings: LineDifference<InvoiceFindingKind>[] = [];
  const invoiceTotal = money(inv.lines.reduce((s, l) => s + (l.quantityInvoiced ?? 0) * (l.unitPrice ?? 0), 0));
  const base = { invoiceNumber: inv.invoiceNumber ?? inv.id, mode: shipped ? ('3-way' as const) : ('2-way' as const), invoice: inv, invoiceTotal };
  if (!po || !index) {
    return { ...base, findings: [{ kind: 'po_unknown', amountAtRisk: invoiceTotal }], expectedTotal: 0, amountAtRisk: invoiceTotal };
  }
  let expectedTotal = 0;
  for (const l of inv.lines) {
    const qty = l.quantityInvoiced ?? 0;
    const i = index.find(l);
    if (i === undefined) {
      findings.push({ kind: 'not_on_po', line: l.lineNumber, sku: skuOf(l), actual: qty, unitPrice: l.unitPrice, amountAtRisk: money(qty * (l.unitPrice ?? 0)) });
      continue;
    }
    const pl = po.lines[i];
    const poPrice = pl.unitPrice;
    const sku = skuOf(pl) ?? skuOf(l);
    if (poPrice !== undefined && l.unitPrice !== undefined) {
      const diff = l.unitPrice - poPrice;
      const allowed = (Math.abs(poPrice) * t.unitPricePercent) / 100;
      if (Math.abs(diff) > allowed + EPS) {
        findings.push({ kind: 'unit_price', line: pl.lineNumber, sku, expected: poPrice, actual: l.unitPrice, difference: money(diff), allowed, amountAtRisk: money(Math.max(0, diff) * qty) });
      }
    }
    // 3-way: what may be billed is what was shipped; 2-way: what was ordered.
    const reference = shipped ? (shipped.get(i) ?? 0) : pl.quantityOrdered;
    if (reference !== undefined) {
      const diff = qty - reference;
      const allowed = quantityAllowance(reference, t);
      if (Math.abs(diff) > allowed + EPS) {
        findings.push({
          kind: shipped ? 'quantity_vs_shipped' : 'quantity_vs_ordered', line: pl.lineNumber, sku, expected: reference, actual: qty,
          difference: diff, allowed, unitPrice: poPrice ?? l.unitPrice, amountAtRisk: money(Math.max(0, diff) * (poPrice ?? l.unitPrice ?? 0)),
        });
      }
    }
    expectedTotal += Math.min(qty, reference ?? qty) * (poPrice ?? l.unitPrice ?? 0);
  }
  expectedTotal = money(expectedTotal);
  const totalDiff = money(invoiceTotal - expectedTotal);
  if (Math.abs(totalDiff) > t.totalAmount + EPS) {
    findings.push({ kind: 'total_amount', expected: expectedTotal, actual: invoiceTotal, difference: totalDiff, allowed: t.totalAmount, amountAtRisk: Math.max(0, totalDiff) });
  }
  return { ...base, findings, expectedTotal, amountAtRisk: findings.length ? Math.max(0, totalDiff) : 0 };
}

/** A stable text of what was found: the same findings again raise nothing new. */
export function fingerprint(findings: LineDifference<string>[]): string {
  return JSON.stringify(
    findings
      .map((f) => [f.kind, f.line ?? '', f.sku ?? '', f.shipmentId ?? '', f.expected ?? null, f.actual ?? null])
      .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
  );
}
