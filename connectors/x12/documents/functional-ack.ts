import type { Segment } from '../tokenizer.js';
import { FUNCTIONAL_ACK_CODES, type DocumentOf } from '../../../src/canonical/business-documents.js';
import { addExtra, body, present, x12Source, type EnvelopeInput, type SetInput } from './common.js';
import { code, codeAt, components, countAt, el, keyAt, raw } from './values.js';

type FunctionalAck = DocumentOf<'functional_ack'>;
type AckedSet = FunctionalAck['sets'][number];
type SegmentError = AckedSet['segmentErrors'][number];

type AckCode = (typeof FUNCTIONAL_ACK_CODES)[number];

/** An acknowledgment code, or undefined (and the value kept in extra) when it is not one. */
function ackCode(doc: FunctionalAck, s: Segment): AckCode | undefined {
  const v = el(s, 1);
  if ((FUNCTIONAL_ACK_CODES as readonly string[]).includes(v ?? '')) return v as AckCode;
  addExtra(doc.extra, `${s.tag}.01`, v);
  return undefined;
}

function codes(s: Segment, from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = from; i <= to; i++) {
    const c = codeAt(s, i);
    if (c) out.push(c);
  }
  return out;
}

/** AK4/IK4: 01 position as composite C030 (element : component : repetition), 02 element reference, 03 error, 04 bad data. */
function elementError(s: Segment): SegmentError['elementErrors'][number] {
  const [position, component, repetition] = components(s, 1).map((c) => (/^\d{1,9}$/.test(c) ? Number(c) : undefined));
  const bad = raw(s, 4);
  const ref = el(s, 2);
  return { position, component, repetition, elementRef: ref && /^\d{1,4}$/.test(ref) ? ref : undefined, code: codeAt(s, 3), badValue: bad ? bad.slice(0, 1000) : undefined };
}

/** CTX (999 only): kept as sent, elements joined with the element separator, e.g. `CLM01:123456789`. */
function context(s: Segment): string {
  let last = s.elements.length - 1;
  while (last > 1 && !s.elements[last]) last--;
  return s.elements.slice(1, last + 1).join(s.delimiters.element).slice(0, 1000);
}

/**
 * 997 Functional Acknowledgment and 999 Implementation Acknowledgment. AK1: acknowledged group (01
 * functional ID, 02 control number, 03 version). Per set, AK2 (01 set ID, 02 control number, 03
 * implementation reference), AK3/IK3 segment errors (01 segment, 02 position, 03 loop, 04 code) with
 * their AK4/IK4 element errors and 999 CTX context, closed by AK5/IK5 (01 A/E/M/P/R/W/X, 02-06 error
 * codes). AK9: 01 group status (A, E, M, P partially accepted, R, W, X), 02 sets included, 03 received,
 * 04 accepted, 05-09 group error codes. Segments out of place (an IK5 before any AK2) are ignored; a
 * status that is no acknowledgment code is kept in extra and a later valid one for the set is taken.
 */
export function buildFunctionalAck(set: SetInput, env: EnvelopeInput): FunctionalAck {
  const doc: FunctionalAck = { type: 'functional_ack', schemaVersion: 1, x12: x12Source(set, env), sets: [], errorCodes: [], extra: {} };
  let current: AckedSet | undefined;
  let statusSeen = false;
  let segmentError: SegmentError | undefined;
  for (const s of body(set)) {
    switch (s.tag) {
      case 'AK1':
        doc.ackedGroup ??= present({ functionalId: code(el(s, 1)), controlNumber: keyAt(s, 2), version: keyAt(s, 3) });
        if (el(s, 1) && !code(el(s, 1))) addExtra(doc.extra, 'AK1.01', el(s, 1));
        break;
      case 'AK2':
        doc.sets.push((current = { setId: keyAt(s, 1), controlNumber: keyAt(s, 2), implementationRef: keyAt(s, 3), errorCodes: [], segmentErrors: [] }));
        statusSeen = false;
        segmentError = undefined;
        break;
      case 'AK3':
      case 'IK3':
        if (!current) break;
        current.segmentErrors.push((segmentError = { segmentId: keyAt(s, 1), position: countAt(s, 2), loopId: keyAt(s, 3), code: codeAt(s, 4), elementErrors: [] }));
        break;
      case 'AK4':
      case 'IK4':
        if (!current) break;
        if (!segmentError) current.segmentErrors.push((segmentError = { elementErrors: [] }));
        segmentError.elementErrors.push(elementError(s));
        break;
      case 'CTX': {
        const ctx = context(s);
        if (ctx && segmentError) (segmentError.context ??= []).push(ctx);
        else addExtra(doc.extra, 'CTX', ctx);
        break;
      }
      case 'AK5':
      case 'IK5':
        if (!current || statusSeen) break;
        current.status = ackCode(doc, s);
        statusSeen = current.status !== undefined;
        current.errorCodes = codes(s, 2, 6);
        segmentError = undefined;
        break;
      case 'AK9':
        if (doc.status !== undefined || doc.setsIncluded !== undefined) break;
        doc.status = ackCode(doc, s);
        doc.setsIncluded = countAt(s, 2);
        doc.setsReceived = countAt(s, 3);
        doc.setsAccepted = countAt(s, 4);
        doc.errorCodes = codes(s, 5, 9);
        break;
    }
  }
  return doc;
}
