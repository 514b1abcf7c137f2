import type { Segment } from '../tokenizer.js';
import type { DocumentOf } from '../../../src/canonical/business-documents.js';
import {
  addExtra, body, businessFields, newDraft, present, readCommonHeader, setKey, splitLines, x12Source, type EnvelopeInput,
  type SetInput,
} from './common.js';
import { codeAt, decimalAt, isoDateAt, isoTimeAt, keyAt, text, weightUnitAt } from './values.js';

type ShipmentStatus = DocumentOf<'shipment_status'>;
type StatusLine = ShipmentStatus['lines'][number];
type ShipmentEvent = StatusLine['events'][number];

/**
 * AT7: 01 shipment status (e.g. AF picked up, X1 arrived at delivery, D1 unloaded at delivery,
 * AG estimated delivery, XB acknowledged, CA cancelled, AH attempted delivery), 02 status reason
 * (e.g. NS normal), 03/04 appointment status and reason, 05 date, 06 time, 07 time zone code.
 */
function readEvent(s: Segment): ShipmentEvent {
  return {
    status: codeAt(s, 1), reasonCode: codeAt(s, 2), appointmentStatus: codeAt(s, 3), appointmentReasonCode: codeAt(s, 4),
    date: isoDateAt(s, 5), time: isoTimeAt(s, 6), timeCode: codeAt(s, 7),
  };
}

/**
 * An LX loop: AT7 events, MS1 location (city, state, country), MS2 equipment (SCAC, number, type),
 * AT8 weight (02 unit, 03 weight, 04 lading quantity), L11 references (PO kept as the line's PO).
 */
function readLine(lx: Segment | undefined, segs: Segment[]): StatusLine {
  const line: StatusLine = { lineNumber: keyAt(lx, 1), events: [], extra: {} };
  for (const s of segs) {
    if (s.tag === 'AT7') line.events.push(readEvent(s));
    else if (s.tag === 'MS1') line.location ??= present({ city: text(s, 1), state: keyAt(s, 2), country: keyAt(s, 3) });
    else if (s.tag === 'MS2') line.equipment ??= present({ scac: keyAt(s, 1), number: keyAt(s, 2), type: codeAt(s, 3) });
    else if (s.tag === 'AT8') {
      line.weightUom ??= weightUnitAt(s, 2);
      line.weight ??= decimalAt(s, 3);
      line.ladingQuantity ??= decimalAt(s, 4);
    } else if (s.tag === 'L11') {
      const qualifier = codeAt(s, 2);
      if (qualifier === 'PO' && !line.poNumber && keyAt(s, 1)) line.poNumber = keyAt(s, 1);
      else addExtra(line.extra, `L11.${qualifier ?? ''}`, text(s, 1));
    } else if (s.tag === 'K1') addExtra(line.extra, 'K1', [text(s, 1), text(s, 2)].filter(Boolean).join(' '));
  }
  const first = line.events.find((e) => e.status) ?? line.events[0];
  if (first) Object.assign(line, { status: first.status, reasonCode: first.reasonCode, date: first.date, time: first.time, timeCode: first.timeCode });
  return line;
}

/**
 * 214 Transportation Carrier Shipment Status. B10: 01 carrier's reference (PRO) number, 02 shipper's
 * shipment identification, 03 SCAC (all space-padded in some feeds, hence trimmed). L11 references
 * (PO, BM, ...), N1 loops, then one line per LX loop with its AT7 status events.
 */
export function buildShipmentStatus(set: SetInput, env: EnvelopeInput): ShipmentStatus {
  const d = newDraft();
  const { header, lines } = splitLines(body(set), { start: new Set(), summary: new Set(), lx: true });
  const b10 = header.find((s) => s.tag === 'B10');
  setKey(d, 'proNumber', keyAt(b10, 1), 'B10.01');
  setKey(d, 'shipmentId', keyAt(b10, 2), 'B10.02');
  for (let i = 0; i < header.length; ) i = header[i] === b10 ? i + 1 : readCommonHeader(d, header, i);
  const statusLines = lines.map((g) => readLine(g.lx, g.segments));
  for (const l of statusLines) if (l.poNumber) setKey(d, 'poNumber', l.poNumber, 'L11.PO');
  if (d.poNumbers.length > 1) delete d.keys.poNumber;
  return {
    type: 'shipment_status',
    x12: x12Source(set, env),
    ...businessFields(d),
    carrier: present({ scac: keyAt(b10, 3) }),
    lines: statusLines,
  };
}
