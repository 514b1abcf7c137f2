import type { Segment } from '../tokenizer.js';
import { TECHNICAL_ACK_CODES, type DocumentOf } from '../../../src/canonical/business-documents.js';
import { addExtra, x12Source, type EnvelopeInput } from './common.js';
import { codeAt, el, isoDateAt, isoTimeAt, keyAt } from './values.js';

type TechnicalAck = DocumentOf<'technical_ack'>;

/**
 * TA1 Interchange Acknowledgment, read from the TA1 segment itself (it travels outside any group):
 * 01 acknowledged interchange control number, 02 its date (YYMMDD; some senders use CCYYMMDD),
 * 03 its time, 04 acknowledgment code (A accepted, E accepted with errors, R rejected), 05 note code
 * ('000' no error; e.g. '001' control numbers in ISA and IEA differ, '025' duplicate control number).
 */
export function buildTechnicalAck(ta1: Segment | undefined, env: EnvelopeInput): TechnicalAck {
  const status = el(ta1, 4);
  const extra: Record<string, string[]> = {};
  const valid = (TECHNICAL_ACK_CODES as readonly string[]).includes(status ?? '');
  if (!valid) addExtra(extra, 'TA1.04', status);
  return {
    type: 'technical_ack',
    schemaVersion: 1,
    x12: x12Source({ id: 'TA1', controlNumber: '', segments: [] }, env),
    ackedInterchangeControlNumber: keyAt(ta1, 1),
    ackedDate: isoDateAt(ta1, 2),
    ackedTime: isoTimeAt(ta1, 3),
    status: valid ? (status as TechnicalAck['status']) : undefined,
    noteCode: codeAt(ta1, 5),
    extra,
  };
}
