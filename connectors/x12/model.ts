import type { Delimiters, Segment } from './tokenizer.js';

/**
 * The X12 connector's internal model: what the envelope walker produces from the token stream,
 * what validation reports, and what the acknowledgment builder and document builders consume.
 */

/** Where in the stream a problem is. `setPosition` is the X12 segment position within its set (ST = 1). */
export interface X12Position {
  segmentIndex: number;
  offset: number;
  tag?: string;
  setPosition?: number;
  element?: number;
  component?: number;
}

export type X12Level = 'interchange' | 'group' | 'set' | 'segment' | 'element';

/**
 * One validation finding, carrying the X12 code it maps to at its level:
 * - interchange: TA1 note code (TA105), e.g. '001' control number mismatch, '025' duplicate;
 * - group: AK9/IK9 (997/999) functional group error code, e.g. '4' control numbers differ, '5' set count;
 * - set: AK5/IK5 transaction set error code, e.g. '3' control numbers differ, '4' segment count;
 * - segment: AK3/IK3 segment error code, e.g. '3' mandatory segment missing, '8' element errors;
 * - element: AK4/IK4 element error code, e.g. '1' mandatory element missing, '5' too long, '8' invalid date.
 */
export interface X12Finding {
  level: X12Level;
  code: string;
  message: string;
  position: X12Position;
  /** For element findings: the data element reference number when known (AK404/IK404). */
  elementRef?: string;
  /** For element findings: a copy of the bad data (AK404/IK404), truncated to 99 characters. */
  badValue?: string;
}

export interface X12TransactionSet {
  /** ST01, e.g. '850'. */
  id: string;
  /** ST02 */
  controlNumber: string;
  /** ST03 (implementation convention reference, 5010+), when present. */
  implementationRef?: string;
  /** Segments from ST to SE inclusive. */
  segments: Segment[];
  findings: X12Finding[];
  /** True when the set has no error at set, segment or element level. */
  accepted: boolean;
}

export interface X12Group {
  /** GS01 functional identifier code, e.g. 'PO', 'PR', 'SH', 'IN'. */
  functionalId: string;
  senderCode: string;
  receiverCode: string;
  date: string;
  time: string;
  controlNumber: string;
  /** GS07 responsible agency, 'X'. */
  agency: string;
  /** GS08 version/release, e.g. '004010'. */
  version: string;
  /**
   * The group's sets in order. After a streaming walk (keepSegments false) sets come back without segments,
   * and clean ones are rebuilt from compact runs on each read: read it once per use.
   */
  readonly sets: readonly X12TransactionSet[];
  /** Number of sets so far, without rebuilding `sets` (GE01). */
  readonly setCount: number;
  findings: X12Finding[];
  header: Segment;
  trailer?: Segment;
}

export interface X12Interchange {
  senderQualifier: string;
  senderId: string;
  receiverQualifier: string;
  receiverId: string;
  date: string;
  time: string;
  /** ISA12 */
  version: string;
  /** ISA13, as sent (9 digits when valid). */
  controlNumber: string;
  /** ISA14 = '1' */
  ackRequested: boolean;
  /** ISA15: 'P' production, 'T' test, 'I' information. */
  usage: string;
  delimiters: Delimiters;
  groups: X12Group[];
  /** TA1 segments received inside this interchange (inbound technical acks). */
  ta1: Segment[];
  findings: X12Finding[];
  header: Segment;
  trailer?: Segment;
}

export type { Delimiters, Segment };
