import type { Segment } from '../tokenizer.js';
import type { DocumentOf } from '../../../src/canonical/business-documents.js';
import { addExtra, newLine, readCommonHeader, readLineSegment, splitLines, type Draft, type LineGroup } from './common.js';
import { decimalAt, el, keyAt, weightUnitAt } from './values.js';

/** The line shape shared by the warehouse sets (940 W01, 945 W12, 947 W19). */
export type WarehouseLine = DocumentOf<'warehouse_shipping_order'>['lines'][number];

/**
 * The 940 and 945 number their lines with LX loops that hold the item segment (4010 and later; older
 * versions start at the item segment). In the 947 the W19 itself opens the loop and any LX sits inside it.
 */
export function splitWarehouseSet(segs: Segment[], item: string, summary: string[], lx = true) {
  return splitLines(segs, { start: new Set([item]), summary: new Set(summary), lx });
}

/**
 * Reads the header: `own` takes the set's beginning segment and carrier segments, everything else
 * (N1 loops, N9 references, G62 dates) is read the common way.
 */
export function readWarehouseHeader(d: Draft, header: Segment[], own: (s: Segment) => boolean): void {
  for (let i = 0; i < header.length; ) {
    if (own(header[i])) i++;
    else i = readCommonHeader(d, header, i);
  }
}

/** A UPC case code element (W0103, W1206, W1904): kept as `upcCase` when it is one, else in extra. */
export function applyUpcCase(line: WarehouseLine, seg: Segment, n: number): void {
  const v = el(seg, n);
  if (v && /^\d{6,14}$/.test(v) && line.upcCase === undefined) line.upcCase = v;
  else addExtra(line.extra, `${seg.tag}.${String(n).padStart(2, '0')}`, v);
}

/**
 * A line loop: `item` reads the set's item segment; W20 gives the weight when the item segment has
 * none (04 weight, 06 unit); G69, N9, G62 and the rest are read the common way. The LX number (of the
 * loop, or inside it for the 947) is the line number.
 */
export function readWarehouseLine(group: LineGroup, item: string, readItem: (line: WarehouseLine, s: Segment) => void): WarehouseLine {
  const line: WarehouseLine = newLine();
  line.lineNumber = keyAt(group.lx, 1);
  const segs = group.segments;
  for (let i = 0; i < segs.length; ) {
    const s = segs[i];
    if (s.tag === item) readItem(line, s);
    else if (s.tag === 'LX') line.lineNumber ??= keyAt(s, 1);
    else if (s.tag === 'W20') {
      line.weight ??= decimalAt(s, 4);
      line.weightUom ??= weightUnitAt(s, 6);
    } else {
      i = readLineSegment(line, segs, i);
      continue;
    }
    i++;
  }
  return line;
}
