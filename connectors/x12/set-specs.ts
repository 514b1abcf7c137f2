import { ELEMENT_ERROR_CODES, GROUP_ERROR_CODES, SEGMENT_ERROR_CODES, SET_ERROR_CODES, TA1_NOTE_CODES } from './x12-codes.js';

/**
 * Data-style rules for the transaction sets the hub supports, written once for 004010 and 005010: where
 * the two releases differ, the looser bound wins (e.g. REF-like AN 1/30 in 4010 and 1/50 in 5010 → 1/50),
 * so real files of either release pass when they are valid. Only segments that matter to the hub's
 * mappings are described; everything else in a set is accepted as is (a full dictionary per release would
 * reject partner extensions the business does not care about).
 *
 * Element notation: "<M|O|X> <type> <min>/<max> <ref>[ =code,code][ *repeat]" — M mandatory, O optional,
 * X conditional (checked by the segment's syntax notes, e.g. "P0203"), ref the data element number
 * ("-" when the hub does not report one).
 */

export type ElementType = 'ID' | 'AN' | 'N0' | 'N2' | 'R' | 'DT' | 'TM';

export interface ElementRule {
  ref?: string;
  type: ElementType;
  min: number;
  max: number;
  mandatory: boolean;
  codes?: ReadonlySet<string>;
  /** Maximum repetitions (repetition separator, 004020+); 1 when the element does not repeat. */
  repeat: number;
  /** Present for composites: the rules of its components, in order. */
  components?: readonly ElementRule[];
}

export interface SegmentRule {
  /** elements[0] is XX01. Undefined entries are positions the hub does not check. */
  elements: readonly (ElementRule | undefined)[];
  /** When set, non-empty elements past this position are "too many data elements" (AK4 3). */
  maxElements?: number;
  /** X12 syntax notes: P paired, R at least one, C if first then all, E at most one, L if first then one more. */
  notes: readonly string[];
  /** The same notes with their element positions read once (checked on every segment). */
  syntax: readonly SyntaxNote[];
}

export interface SyntaxNote {
  note: string;
  kind: 'P' | 'R' | 'C' | 'E' | 'L';
  positions: readonly number[];
}

export interface SetSpec {
  /** The beginning segment: it must be the segment right after ST and occur once. */
  begin: string;
  /** Segments that must occur at least once (AK3 3 when absent), the beginning segment included. */
  mandatory: readonly string[];
  /** Segments limited in number of uses (AK3 5 past the limit). */
  maxUse: Readonly<Record<string, number>>;
  /** For sets whose whole dictionary is small and stable (997/999): any other segment is unexpected (AK3 2). */
  closed?: ReadonlySet<string>;
}

const SPEC = /^([MOX]) (ID|AN|N0|N2|R|DT|TM) (\d+)\/(\d+) (\S+)(?: =(\S+))?(?: \*(\d+))?$/;
/** The type names as literals: a regex capture is a fresh string, and the checks compare types millions of times. */
const TYPES: Readonly<Record<string, ElementType>> = { ID: 'ID', AN: 'AN', N0: 'N0', N2: 'N2', R: 'R', DT: 'DT', TM: 'TM' };

function el(spec: string): ElementRule {
  const m = SPEC.exec(spec);
  // A malformed literal is a bug in this file, caught by the first test that imports it.
  if (!m) throw new Error(`set-specs: bad element spec "${spec}"`);
  return {
    ref: m[5] === '-' ? undefined : m[5],
    type: TYPES[m[2]],
    min: Number(m[3]),
    max: Number(m[4]),
    mandatory: m[1] === 'M',
    codes: m[6] ? new Set(m[6].split(',')) : undefined,
    repeat: m[7] ? Number(m[7]) : 1,
  };
}

function comp(req: 'M' | 'O', components: string[], repeat = 1): ElementRule {
  const parts = components.map(el);
  return { type: 'AN', min: 1, max: 999, mandatory: req === 'M', repeat, components: parts };
}

function note(text: string): SyntaxNote {
  if (!/^[PRCEL](\d\d){2,}$/.test(text)) throw new Error(`set-specs: bad syntax note "${text}"`);
  return { note: text, kind: text[0] as SyntaxNote['kind'], positions: (text.slice(1).match(/\d\d/g) ?? []).map(Number) };
}

function seg(elements: (string | ElementRule | null)[], notes: string[] = [], maxElements?: number): SegmentRule {
  return { elements: elements.map((e) => (e === null ? undefined : typeof e === 'string' ? el(e) : e)), notes, syntax: notes.map(note), maxElements };
}

const codes = (table: object) => Object.keys(table).join(',');
const POSITION = ['M N0 1/2 722', 'O N0 1/2 1528', 'O N0 1/4 1686'];
/** C001 composite unit of measure: a unit, exponent, multiplier triple, then four more optional triples. */
const UNIT = ['M ID 2/2 355', 'O R 1/15 1018', 'O R 1/10 649', ...Array(4).fill(['O ID 2/2 355', 'O R 1/15 1018', 'O R 1/10 649']).flat()];

/** Segment rules, shared by every supported set (X12 segment definitions are global within a release). */
export const SEGMENT_RULES: Readonly<Record<string, SegmentRule>> = {
  // 850 purchase order
  BEG: seg(['M ID 2/2 353', 'M ID 2/2 92', 'M AN 1/22 324', 'O AN 1/30 328', 'M DT 8/8 373', 'O AN 1/30 367']),
  PO1: seg(['O AN 1/20 350', 'X R 1/15 330', 'X ID 2/2 355', 'X R 1/17 212', 'O ID 2/2 639', 'X ID 2/2 235', 'X AN 1/48 234'], ['C0302', 'C0504', 'P0607']),
  // 855 acknowledgment
  BAK: seg(['M ID 2/2 353', 'M ID 2/2 587', 'M AN 1/22 324', 'M DT 8/8 373', 'O AN 1/30 328', 'O AN 1/45 326', 'O AN 1/30 367', 'O AN 1/50 127', 'O DT 8/8 373']),
  ACK: seg(['M ID 2/2 668', 'X R 1/15 380', 'X ID 2/2 355', 'O ID 3/3 374', 'X DT 8/8 373'], ['P0203', 'C0405']),
  // 856 ship notice
  BSN: seg(['M ID 2/2 353', 'M AN 2/30 396', 'M DT 8/8 373', 'M TM 4/8 337', 'O ID 4/4 1005', 'X ID 2/2 640', 'O ID 3/3 641'], ['C0706']),
  HL: seg(['M AN 1/12 628', 'O AN 1/12 734', 'M ID 1/2 735', 'O ID 1/1 736']),
  LIN: seg(['O AN 1/20 350', 'M ID 2/2 235', 'M AN 1/48 234']),
  SN1: seg(['O AN 1/20 350', 'M R 1/10 382', 'M ID 2/2 355', 'O R 1/15 646', 'X R 1/15 330', 'X ID 2/2 355', 'O ID 1/2 728', 'O ID 2/2 668'], ['P0506']),
  // 810 invoice
  BIG: seg(['M DT 8/8 373', 'M AN 1/22 76', 'O DT 8/8 373', 'O AN 1/22 324', 'O AN 1/30 328', 'O AN 1/8 327', 'O ID 2/2 640', 'O ID 2/2 353', 'O ID 1/2 306', 'O AN 1/22 76']),
  IT1: seg(['O AN 1/20 350', 'X R 1/15 358', 'X ID 2/2 355', 'X R 1/17 212', 'O ID 2/2 639', 'X ID 2/2 235', 'X AN 1/48 234'], ['P020304', 'P0607']),
  TDS: seg(['M N2 1/15 610', 'O N2 1/15 610', 'O N2 1/15 610', 'O N2 1/15 610']),
  // 214 carrier shipment status
  B10: seg(['X AN 1/50 127', 'O AN 1/30 145', 'M ID 2/4 140', 'O N0 1/3 71', 'X ID 2/3 128', 'X AN 1/50 127', 'O ID 1/1 1073'], ['R0106', 'E0105', 'P0506']),
  AT7: seg(['X ID 2/2 1650', 'X ID 2/2 1651', 'X ID 2/2 1652', 'X ID 2/2 1653', 'O DT 8/8 373', 'O TM 4/8 337', 'O ID 2/2 623'], ['R0103', 'P0102', 'P0304']),
  // 940/945/947 warehouse
  W05: seg(['M ID 1/1 473', 'M AN 1/22 285', 'O AN 1/22 324', 'X N0 6/6 472', 'X AN 1/22 474', 'O ID 2/2 640', 'O ID 1/2 306'], ['P0405']),
  W01: seg(['M R 1/15 330', 'M ID 2/2 355', 'X AN 12/12 438', 'X ID 2/2 235', 'X AN 1/48 234'], ['P0405']),
  W06: seg(['M ID 1/1 -', 'O AN 1/22 285', 'O DT 8/8 373', 'O AN 1/30 145', 'O AN 1/12 -', 'O AN 1/22 324', 'X AN 1/22 474', 'X N0 6/6 472'], ['P0708']),
  W12: seg(['M ID 2/2 368', 'O R 1/15 330', 'O R 1/10 382', 'O R 1/9 -', 'O ID 2/2 355', 'O AN 12/12 438', 'O ID 2/2 235', 'O AN 1/48 234']),
  W15: seg(['M DT 8/8 373', 'M AN 1/22 -', 'O AN 1/22 -']),
  W19: seg(['M ID 2/2 -', 'M R 1/15 -', 'M ID 2/2 355', 'O AN 12/12 438', 'X ID 2/2 235', 'X AN 1/48 234'], ['P0506']),
  // 846 inventory advice
  BIA: seg(['M ID 2/2 353', 'M ID 2/2 755', 'M AN 1/50 127', 'M DT 8/8 373', 'O TM 4/8 337', 'O ID 1/2 306']),
  QTY: seg(['M ID 2/2 673', 'X R 1/15 380', comp('O', UNIT), 'X AN 1/30 61'], ['R0204', 'E0204']),
  // References, used across the warehouse and order sets (an empty N901 is a classic partner error).
  N9: seg(['M ID 2/3 128', 'X AN 1/50 127', 'X AN 1/45 369'], ['R0203']),
  // 997 / 999 acknowledgments (our own output is checked with these too).
  AK1: seg(['M ID 2/2 479', 'M N0 1/9 28', 'O AN 1/12 480'], [], 3),
  AK2: seg(['M ID 3/3 143', 'M AN 4/9 329', 'O AN 1/35 1705'], [], 3),
  AK3: seg(['M ID 2/3 721', 'M N0 1/6 719', 'O AN 1/4 447', `O ID 1/3 720 =${codes(SEGMENT_ERROR_CODES)}`], [], 4),
  AK4: seg([comp('M', POSITION), 'O N0 1/4 725', `M ID 1/3 723 =${codes(ELEMENT_ERROR_CODES)}`, 'O AN 1/99 724'], [], 4),
  AK5: seg(['M ID 1/1 717 =A,E,M,R,W,X', ...Array(5).fill(`O ID 1/3 718 =${codes(SET_ERROR_CODES)}`)], [], 6),
  AK9: seg(['M ID 1/1 715 =A,E,M,P,R,W,X', 'M N0 1/6 97', 'M N0 1/6 123', 'M N0 1/6 2', ...Array(5).fill(`O ID 1/3 716 =${codes(GROUP_ERROR_CODES)}`)], [], 9),
  IK3: seg(['M ID 2/3 721', 'M N0 1/10 719', 'O AN 1/4 447', `O ID 1/3 620 =${codes(SEGMENT_ERROR_CODES)}`], [], 4),
  IK4: seg([comp('M', POSITION), 'O N0 1/4 725', `M ID 1/3 621 =${codes(ELEMENT_ERROR_CODES)}`, 'O AN 1/99 724'], [], 4),
  IK5: seg(['M ID 1/1 717 =A,E,M,R,W,X', ...Array(5).fill(`O ID 1/3 618 =${codes(SET_ERROR_CODES)}`)], [], 6),
  CTX: seg([comp('M', ['M AN 1/35 9999', 'O AN 1/35 9998'], 10), 'O ID 2/3 721', 'O N0 1/10 719', 'O AN 1/4 447', comp('O', POSITION)]),
};

/** Envelope and interchange-level segments, checked by the walker with their own TA1/AK9 codes. */
export const ENVELOPE_RULES = {
  GS: seg(['M ID 2/2 479', 'M AN 2/15 142', 'M AN 2/15 124', 'M DT 8/8 373', 'M TM 4/8 337', 'M N0 1/9 28', 'M ID 1/2 455 =T,X', 'M AN 1/12 480'], [], 8),
  TA1: seg(['M N0 9/9 I12', 'M DT 6/6 I08', 'M TM 4/4 I09', 'M ID 1/1 I17 =A,E,R', `M ID 3/3 I18 =${codes(TA1_NOTE_CODES)}`], [], 5),
  ISB: seg(['M ID 1/1 I41'], [], 1),
  ISE: seg(['M DT 6/6 I42', 'M TM 4/4 I43', 'M ID 2/2 I44'], [], 3),
} as const;

const ACK_997 = ['AK1', 'AK2', 'AK3', 'AK4', 'AK5', 'AK9'];
const ACK_999 = ['AK1', 'AK2', 'IK3', 'CTX', 'IK4', 'IK5', 'AK9'];

function spec(begin: string, more: string[] = [], closed?: string[], maxUse: Record<string, number> = {}): SetSpec {
  return { begin, mandatory: [begin, ...more], maxUse: { [begin]: 1, ...maxUse }, closed: closed && new Set(closed) };
}

/** The supported transaction sets by ST01. Anything else is "not supported" (AK5 1) when acknowledged. */
export const SET_SPECS: Readonly<Record<string, SetSpec>> = {
  '850': spec('BEG'),
  '855': spec('BAK'),
  '856': spec('BSN', ['HL']),
  '810': spec('BIG', ['TDS']),
  '214': spec('B10'),
  '940': spec('W05'),
  '945': spec('W06'),
  '947': spec('W15'),
  '846': spec('BIA'),
  '997': spec('AK1', ['AK9'], ACK_997, { AK9: 1 }),
  '999': spec('AK1', ['AK9'], ACK_999, { AK9: 1 }),
};

export function isSupportedSet(id: string): boolean {
  return Object.prototype.hasOwnProperty.call(SET_SPECS, id);
}

/** X12 segment IDs are two or three upper-case letters/digits starting with a letter. */
export const SEGMENT_ID = /^[A-Z][A-Z0-9]{1,2}$/;
