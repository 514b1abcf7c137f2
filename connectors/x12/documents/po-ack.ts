import type { Segment } from '../tokenizer.js';
import type { DocumentOf } from '../../../src/canonical/business-documents.js';
import {
  addExtra, body, businessFields, cttTotals, newDraft, present, readCommonHeader, setKey, setReference, splitLines, x12Source,
  type EnvelopeInput, type SetInput,
} from './common.js';
import { PO1_LOOP, readPo1Loop } from './purchase-order.js';
import { applyAmount, applyTd5 } from './transport.js';
import { codeAt, decimalAt, el, isoDateAt, keyAt, text, uomAt } from './values.js';

type PoAck = DocumentOf<'po_acknowledgment'>;
type AckLine = PoAck['lines'][number];
type Ack = AckLine['acknowledgments'][number];

/**
 * ACK line item acknowledgment: 01 line status (IA accepted, IR rejected, IB backordered, IC accepted
 * with changes, IP price changed, IQ quantity changed, IS substitution, ...), 02/03 quantity and unit,
 * 04/05 date qualifier and date (e.g. 068 current schedule ship), 29 industry (reason) code under
 * 27/28 agency and source. Product IDs in 07-26 name a changed or substituted item: kept in extra.
 */
function readAck(line: AckLine, s: Segment): Ack {
  for (let i = 7; i < 27; i += 2) if (el(s, i + 1)) addExtra(line.extra, `ACK.${codeAt(s, i) ?? ''}`, text(s, i + 1));
  return {
    status: codeAt(s, 1),
    quantity: decimalAt(s, 2),
    uom: uomAt(s, 3),
    dateQualifier: codeAt(s, 4),
    date: isoDateAt(s, 5),
    industryCode: keyAt(s, 29),
  };
}

/**
 * 855 Purchase Order Acknowledgment. BAK: 01 purpose, 02 acknowledgment type (AC with detail and
 * change, AD with detail no change, AK no detail, RD/RJ rejected), 03 PO number, 04 PO date,
 * 05 release, 07 contract, 08 seller's order number, 09 acknowledgment date. Lines are the echoed
 * PO1 loops, each with its ACKs: `status` is the first ACK01, `quantityAcknowledged` the sum of ACK02.
 */
export function buildPoAcknowledgment(set: SetInput, env: EnvelopeInput): PoAck {
  const d = newDraft();
  const { header, lines, summary } = splitLines(body(set), PO1_LOOP);
  const carrier: NonNullable<PoAck['carrier']> = {};
  const totals: NonNullable<PoAck['totals']> = {};
  const bak = header.find((s) => s.tag === 'BAK');
  setKey(d, 'poNumber', keyAt(bak, 3), 'BAK.03');
  setReference(d, 'releaseNumber', keyAt(bak, 5), 'BAK.05');
  setReference(d, 'contractNumber', keyAt(bak, 7), 'BAK.07');
  setReference(d, 'sellerOrderNumber', keyAt(bak, 8), 'BAK.08');
  for (let i = 0; i < header.length; ) {
    const s = header[i];
    if (s === bak) {
      // already read: its keys come first
    } else if (s.tag === 'TD5') applyTd5(carrier, d.extra, s);
    else {
      i = readCommonHeader(d, header, i);
      continue;
    }
    i++;
  }
  if (!d.dates.purchaseOrder) d.dates.purchaseOrder = isoDateAt(bak, 4);
  Object.assign(totals, cttTotals(summary.find((s) => s.tag === 'CTT')));
  for (const s of summary) if (s.tag === 'AMT') applyAmount(totals, d.extra, s);
  return {
    type: 'po_acknowledgment',
    x12: x12Source(set, env),
    ...businessFields(d),
    documentDate: isoDateAt(bak, 9),
    purpose: codeAt(bak, 1),
    acknowledgmentType: codeAt(bak, 2),
    carrier: present(carrier),
    totals: present(totals),
    lines: lines.map((g) => {
      const acks = g.segments.filter((s) => s.tag === 'ACK');
      const line: AckLine = Object.assign(readPo1Loop(g.segments, (s) => s.tag === 'ACK'), { acknowledgments: [] as Ack[] });
      line.acknowledgments = acks.map((s) => readAck(line, s));
      const quantities = line.acknowledgments.map((a) => a.quantity).filter((q): q is number => q !== undefined);
      line.status = line.acknowledgments[0]?.status;
      if (quantities.length) line.quantityAcknowledged = quantities.reduce((a, b) => a + b, 0);
      if (!line.uom) line.uom = line.acknowledgments.find((a) => a.uom)?.uom;
      return line;
    }),
  };
}
