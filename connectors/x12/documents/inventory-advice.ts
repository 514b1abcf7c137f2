import type { Segment } from '../tokenizer.js';
import type { DocumentOf, InventoryQuantityName } from '../../../src/canonical/business-documents.js';
import {
  addExtra, applyDate, applyProductPairs, body, businessFields, cttTotals, newDraft, newLine, present, readCommonHeader,
  readLineSegment, splitLines, x12Source, type EnvelopeInput, type SetInput,
} from './common.js';
import { codeAt, decimalAt, el, isoDateAt, isoTimeAt, keyAt, uomAt } from './values.js';

type InventoryAdvice = DocumentOf<'inventory_advice'>;
type InventoryLine = InventoryAdvice['lines'][number];

/** QTY01 qualifiers (element 673) with a name; any other qualifier is kept as sent. */
const QUANTITY_NAMES: Record<string, InventoryQuantityName> = {
  '17': 'onHand', '33': 'availableForSale', '63': 'onOrder', '87': 'received', QH: 'onHold', '74': 'damaged',
  '27': 'committed', '26': 'totalInventory', '29': 'projectedAvailable', BQ: 'backordered', '34': 'noncommittedOnShelf',
  IQ: 'inTransit', XU: 'reserved', V2: 'available',
};

/**
 * A LIN loop: LIN (01 line, product ID pairs from 02), PID, CTP price, REF, DTM, then QTY loops:
 * QTY 01 qualifier, 02 quantity, 03 unit (composite C001); a following UIT gives the unit when QTY03
 * is absent, and DTM inside the QTY loop dates that quantity (e.g. 371 when on-order stock arrives).
 */
function readLine(segs: Segment[]): InventoryLine {
  const line: InventoryLine = Object.assign(newLine(), { quantities: [] as InventoryLine['quantities'] });
  let qty: InventoryLine['quantities'][number] | undefined;
  for (let i = 0; i < segs.length; ) {
    const s = segs[i];
    if (s.tag === 'LIN') {
      line.lineNumber ??= keyAt(s, 1);
      applyProductPairs(line, s, 2);
    } else if (s.tag === 'QTY') {
      const qualifier = codeAt(s, 1);
      const quantity = decimalAt(s, 2);
      if (qualifier && quantity !== undefined) {
        line.quantities.push((qty = { qualifier, name: QUANTITY_NAMES[qualifier], quantity, uom: uomAt(s, 3), dates: {} }));
      } else {
        qty = undefined;
        addExtra(line.extra, `QTY.${qualifier ?? ''}`, el(s, 2) ?? el(s, 4));
      }
    } else if (s.tag === 'UIT' && qty) qty.uom ??= uomAt(s, 1);
    else if (s.tag === 'DTM' && qty) applyDate(qty.dates, line.extra, s);
    else {
      i = readLineSegment(line, segs, i);
      continue;
    }
    i++;
  }
  line.uom = line.quantities.find((q) => q.uom)?.uom;
  return line;
}

/**
 * 846 Inventory Inquiry/Advice. BIA: 01 purpose, 02 report type (e.g. DD distributor inventory,
 * MM/MB/CM/DM ...), 03 reference number, 04 date, 05 time. Header CUR, DTM, REF, N1 loops; LIN loops
 * with their QTY quantities; CTT summary.
 */
export function buildInventoryAdvice(set: SetInput, env: EnvelopeInput): InventoryAdvice {
  const d = newDraft();
  const { header, lines, summary } = splitLines(body(set), { start: new Set(['LIN']), summary: new Set(['CTT']) });
  const bia = header.find((s) => s.tag === 'BIA');
  for (let i = 0; i < header.length; ) i = header[i] === bia ? i + 1 : readCommonHeader(d, header, i);
  return {
    type: 'inventory_advice',
    x12: x12Source(set, env),
    ...businessFields(d),
    documentDate: isoDateAt(bia, 4),
    documentTime: isoTimeAt(bia, 5),
    purpose: codeAt(bia, 1),
    reportType: codeAt(bia, 2),
    referenceNumber: keyAt(bia, 3),
    totals: present(cttTotals(summary.find((s) => s.tag === 'CTT'))),
    lines: lines.map((g) => readLine(g.segments)),
  };
}
