import type { Segment } from '../tokenizer.js';
import type { Charge, DocumentOf } from '../../../src/canonical/business-documents.js';
import {
  applyProductPairs, applyRef, body, businessFields, newDraft, newLine, present, readCommonHeader, readLineSegment, setKey,
  setReference, splitLines, x12Source, type EnvelopeInput, type SetInput,
} from './common.js';
import { applyAmount } from './transport.js';
import { codeAt, countAt, decimalAt, impliedCentsAt, isoDateAt, keyAt, text, uomAt, weightUnitAt } from './values.js';

type Invoice = DocumentOf<'invoice'>;
type InvoiceLine = Invoice['lines'][number];

/**
 * SAC allowance or charge: 01 indicator (A allowance, C charge, N no charge), 02 code, 05 amount
 * (N2: 2 implied decimals), 07 percent, 08 rate, 09/10 unit and quantity, 12 handling, 15 description.
 */
export function readCharge(s: Segment): Charge {
  return {
    indicator: codeAt(s, 1), code: keyAt(s, 2), amount: impliedCentsAt(s, 5), percent: decimalAt(s, 7), rate: decimalAt(s, 8),
    uom: uomAt(s, 9), quantity: decimalAt(s, 10), handling: codeAt(s, 12), description: text(s, 15),
  };
}

/** ITD terms: 01 type, 03 discount %, 04 discount due date, 05 discount days, 06 net due date, 07 net days, 12 description. */
function readTerms(s: Segment): Invoice['terms'][number] {
  return {
    type: codeAt(s, 1), discountPercent: decimalAt(s, 3), discountDueDate: isoDateAt(s, 4), discountDays: countAt(s, 5),
    netDueDate: isoDateAt(s, 6), netDays: countAt(s, 7), description: text(s, 12),
  };
}

/** IT1: 01 line number, 02 quantity invoiced, 03 unit, 04 unit price, 05 price basis, product ID pairs from 06. */
function readLine(segs: Segment[]): InvoiceLine {
  const line: InvoiceLine = Object.assign(newLine(), { charges: [] as Charge[] });
  for (let i = 0; i < segs.length; ) {
    const s = segs[i];
    if (s.tag === 'IT1') {
      line.lineNumber = keyAt(s, 1);
      line.quantityInvoiced = decimalAt(s, 2);
      line.uom = uomAt(s, 3);
      line.unitPrice = decimalAt(s, 4);
      line.priceBasis = codeAt(s, 5);
      applyProductPairs(line, s, 6);
    } else if (s.tag === 'SAC') line.charges.push(readCharge(s));
    else {
      i = readLineSegment(line, segs, i);
      continue;
    }
    i++;
  }
  return line;
}

/**
 * 810 Invoice. BIG: 01 invoice date, 02 invoice number, 03 PO date, 04 PO number, 05 release, 07 transaction
 * type (DI debit, CR credit). Summary from TDS: TDS01 total amount in cents (N2, `255438` = 2554.38),
 * 02 amount subject to discount, 03 discounted amount due, 04 terms discount; SAC charges of the whole
 * invoice; ISS units shipped and weight; CAD carrier; CTT line count.
 */
export function buildInvoice(set: SetInput, env: EnvelopeInput): Invoice {
  const d = newDraft();
  const { header, lines, summary } = splitLines(body(set), { start: new Set(['IT1']), summary: new Set(['TDS', 'CTT', 'ISS', 'CAD']) });
  const terms: Invoice['terms'] = [];
  const big = header.find((s) => s.tag === 'BIG');
  setKey(d, 'invoiceNumber', keyAt(big, 2), 'BIG.02');
  setKey(d, 'poNumber', keyAt(big, 4), 'BIG.04');
  setReference(d, 'releaseNumber', keyAt(big, 5), 'BIG.05');
  for (let i = 0; i < header.length; ) {
    const s = header[i];
    if (s === big) {
      // already read: its keys come first
    } else if (s.tag === 'ITD') terms.push(readTerms(s));
    else {
      i = readCommonHeader(d, header, i);
      continue;
    }
    i++;
  }
  if (!d.dates.purchaseOrder) d.dates.purchaseOrder = isoDateAt(big, 3);

  const totals: NonNullable<Invoice['totals']> = {};
  const carrier: NonNullable<Invoice['carrier']> = {};
  const charges: Charge[] = [];
  for (const s of summary) {
    if (s.tag === 'TDS') {
      totals.amount ??= impliedCentsAt(s, 1);
      totals.amountSubjectToDiscount ??= impliedCentsAt(s, 2);
      totals.discountedAmountDue ??= impliedCentsAt(s, 3);
      totals.termsDiscountAmount ??= impliedCentsAt(s, 4);
    } else if (s.tag === 'SAC') charges.push(readCharge(s));
    else if (s.tag === 'ISS') {
      totals.quantity ??= decimalAt(s, 1);
      totals.quantityUom ??= uomAt(s, 2);
      totals.weight ??= decimalAt(s, 3);
      totals.weightUom ??= weightUnitAt(s, 4);
    } else if (s.tag === 'CAD') {
      carrier.transportMethod ??= codeAt(s, 1);
      carrier.scac ??= keyAt(s, 4);
      carrier.routing ??= text(s, 5);
      if (codeAt(s, 7)) applyRef(d, 'CAD', codeAt(s, 7), text(s, 8));
    } else if (s.tag === 'CTT') totals.lineCount ??= countAt(s, 1);
    else if (s.tag === 'AMT') applyAmount(totals, d.extra, s);
  }
  return {
    type: 'invoice',
    x12: x12Source(set, env),
    ...businessFields(d),
    documentDate: isoDateAt(big, 1),
    purpose: codeAt(big, 8),
    transactionType: codeAt(big, 7),
    carrier: present(carrier),
    totals: present(totals),
    charges,
    terms,
    lines: lines.map((g) => readLine(g.segments)),
  };
}
