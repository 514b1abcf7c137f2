import type { Segment } from '../tokenizer.js';
import type { DocumentOf, LineCore } from '../../../src/canonical/business-documents.js';
import {
  applyProductPairs, body, businessFields, cttTotals, newDraft, newLine, present, readCommonHeader, readLineSegment, setKey,
  setReference, splitLines, x12Source, type EnvelopeInput, type SetInput,
} from './common.js';
import { applyAmount, applyTd3, applyTd5 } from './transport.js';
import { codeAt, decimalAt, isoDateAt, keyAt, uomAt } from './values.js';

type PurchaseOrder = DocumentOf<'purchase_order'>;
type PoLine = PurchaseOrder['lines'][number];
type Carrier = NonNullable<PurchaseOrder['carrier']>;
type Totals = NonNullable<PurchaseOrder['totals']>;

/** PO1: line number, quantity ordered, unit, unit price and price basis, then product ID pairs from PO106. */
export function applyPo1(line: LineCore, s: Segment): void {
  line.lineNumber = keyAt(s, 1);
  line.quantityOrdered = decimalAt(s, 2);
  line.uom = uomAt(s, 3);
  line.unitPrice = decimalAt(s, 4);
  line.priceBasis = codeAt(s, 5);
  applyProductPairs(line, s, 6);
}

/**
 * SLN sub-line (SLN01 id, 03 relationship, 04 quantity, 05 unit as composite C001, 06 price, pairs from 09).
 * The unit is read from the first component, so `PC>11.1>12.2>EA...` gives 'PC'.
 */
function subline(s: Segment): NonNullable<PoLine['sublines']>[number] {
  const sub: NonNullable<PoLine['sublines']>[number] = {
    lineNumber: keyAt(s, 1), relationship: codeAt(s, 3), quantity: decimalAt(s, 4), uom: uomAt(s, 5), unitPrice: decimalAt(s, 6), extra: {},
  };
  applyProductPairs(sub, s, 9);
  return sub;
}

/** The line loop shared with the 855 (its lines are echoed PO1 loops); `other` sees what is not PO1-level. */
export function readPo1Loop(segments: Segment[], other?: (s: Segment) => boolean): PoLine {
  const line: PoLine = newLine();
  for (let i = 0; i < segments.length; ) {
    const s = segments[i];
    if (other?.(s)) {
      i++;
      continue;
    }
    if (s.tag === 'PO1') applyPo1(line, s);
    else if (s.tag === 'PO4') line.pack ??= present({ pack: decimalAt(s, 1), size: decimalAt(s, 2), uom: uomAt(s, 3) });
    else if (s.tag === 'SLN') (line.sublines ??= []).push(subline(s));
    else {
      i = readLineSegment(line, segments, i);
      continue;
    }
    i++;
  }
  return line;
}

export const PO1_LOOP = { start: new Set(['PO1']), summary: new Set(['CTT']) };

/**
 * 850 Purchase Order. BEG: 01 purpose, 02 order type, 03 PO number, 04 release, 05 PO date, 06 contract.
 * Header REF/N9, DTM, N1 loops, TD5/TD3 carrier details, AMT; PO1 loops; CTT (line count, hash total) and AMT summary.
 */
export function buildPurchaseOrder(set: SetInput, env: EnvelopeInput): PurchaseOrder {
  const d = newDraft();
  const { header, lines, summary } = splitLines(body(set), PO1_LOOP);
  const carrier: Carrier = {};
  const totals: Totals = {};
  // The beginning segment's keys are set first: they win over the same keys in header REFs.
  const beg = header.find((s) => s.tag === 'BEG');
  setKey(d, 'poNumber', keyAt(beg, 3), 'BEG.03');
  setReference(d, 'releaseNumber', keyAt(beg, 4), 'BEG.04');
  setReference(d, 'contractNumber', keyAt(beg, 6), 'BEG.06');
  for (let i = 0; i < header.length; ) {
    const s = header[i];
    if (s === beg) {
      // already read: its keys come first
    } else if (s.tag === 'TD5') applyTd5(carrier, d.extra, s);
    else if (s.tag === 'TD3') applyTd3(carrier, s);
    else if (s.tag === 'AMT') applyAmount(totals, d.extra, s);
    else {
      i = readCommonHeader(d, header, i);
      continue;
    }
    i++;
  }
  Object.assign(totals, cttTotals(summary.find((s) => s.tag === 'CTT')));
  for (const s of summary) if (s.tag === 'AMT') applyAmount(totals, d.extra, s);
  return {
    type: 'purchase_order',
    x12: x12Source(set, env),
    ...businessFields(d),
    documentDate: isoDateAt(beg, 5),
    purpose: codeAt(beg, 1),
    orderType: codeAt(beg, 2),
    carrier: present(carrier),
    totals: present(totals),
    lines: lines.map((g) => readPo1Loop(g.segments)),
  };
}
