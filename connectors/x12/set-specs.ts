import type { Delimiters, Segment } from './tokenizer.js';
import { ELEMENT_ERROR_CODES, GROUP_ERROR_CODES, SEGMENT_ERROR_CODES, SET_ERROR_CODES, TA1_NOTE_CODES } from './x12-codes.js';
import type { ElementErrorCode } from './x12-codes.js';

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

function el(spec: string): ElementRule {
  const m = SPEC.exec(spec);
  // A malformed literal is a bug in this file, caught by the first test that imports it.
  if (!m) throw new Error(`set-specs: bad element spec "${spec}"`);
  return {
    ref: m[5] === '-' ? undefined : m[5],
    type: m[2] as ElementType,
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

function seg(elements: (string | ElementRule | null)[], notes: string[] = [], maxElements?: number): SegmentRule {
  return { elements: elements.map((e) => (e === null ? undefined : typeof e === 'string' ? el(e) : e)), notes, maxElements };
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

export interface ElementProblem {
  element: number;
  component?: number;
  code: ElementErrorCode;
  ref?: string;
  /** The bad data, when there is any (not for a missing element). */
  value?: string;
  message: string;
}

export interface CheckContext {
  delimiters: Delimiters;
  /** Releases before 004010 carry YYMMDD dates where later ones carry CCYYMMDD. */
  legacyDates: boolean;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;
const NUMERIC = /^-?\d+$/;
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)(E-?\d+)?$/;

export function isValidDate(v: string): boolean {
  if (!/^(\d{6}|\d{8})$/.test(v)) return false;
  const year = v.length === 8 ? Number(v.slice(0, 4)) : 2000 + Number(v.slice(0, 2));
  const month = Number(v.slice(-4, -2));
  const day = Number(v.slice(-2));
  const d = new Date(Date.UTC(year, month - 1, day));
  return month >= 1 && month <= 12 && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

export function isValidTime(v: string): boolean {
  const m = /^(\d\d)(\d\d)(?:(\d\d)(\d{1,2})?)?$/.exec(v);
  return !!m && Number(m[1]) < 24 && Number(m[2]) < 60 && (m[3] === undefined || Number(m[3]) < 60);
}

/** The problem with one simple value (present, non-repeated, non-composite), if any. */
function checkValue(v: string, r: ElementRule, ctx: CheckContext): ElementErrorCode | undefined {
  // PERF: one pass over the characters instead of a regex plus includes() per value.
  const comp = ctx.delimiters.component;
  const cc = comp.length === 1 ? comp.charCodeAt(0) : -1;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === cc) return '6';
  }
  if (cc < 0 && v.includes(comp)) return '6';
  let len = v.length;
  let min = r.min;
  let max = r.max;
  if (r.type === 'DT' && max === 8 && ctx.legacyDates) min = max = 6;
  if (r.type === 'N0' || r.type === 'N2' || r.type === 'R') {
    if (!(r.type === 'R' ? DECIMAL : NUMERIC).test(v)) return '6';
    // Digits only: no sign, decimal point or exponent (the regex above guarantees the shape). PERF: no replace().
    if (v.charCodeAt(0) === 45) len--;
    if (v.includes('.')) len--;
    const e = v.indexOf('E');
    if (e >= 0) len -= v.length - e;
  }
  if (r.type === 'DT' && !isValidDate(v)) return '8';
  if (r.type === 'TM' && !isValidTime(v)) return '9';
  if (len < min) return '4';
  if (len > max) return '5';
  if (r.codes && !r.codes.has(v)) return '7';
  return undefined;
}

const name = (tag: string, pos: number, comp?: number) => `${tag}${String(pos).padStart(2, '0')}${comp ? `-${comp}` : ''}`;

function problem(tag: string, element: number, code: ElementErrorCode, r: ElementRule | undefined, value?: string, component?: number): ElementProblem {
  const shown = value === undefined ? '' : ` ("${value.length > 40 ? `${value.slice(0, 40)}…` : value}")`;
  return {
    element,
    component,
    code,
    ref: r?.ref,
    value: value?.slice(0, 99),
    message: `${name(tag, element, component)}${shown}: ${ELEMENT_ERROR_CODES[code].toLowerCase()}`,
  };
}

function checkElement(tag: string, pos: number, raw: string, r: ElementRule, ctx: CheckContext, out: ElementProblem[]): void {
  if (raw === '') {
    if (r.mandatory) out.push(problem(tag, pos, '1', r));
    return;
  }
  const rep = ctx.delimiters.repetition;
  // PERF: the common case (one simple value) allocates nothing.
  if (!r.components && !(rep && raw.includes(rep))) {
    const code = checkValue(raw, r, ctx);
    if (code) out.push(problem(tag, pos, code, r, raw));
    return;
  }
  const values = rep && raw.includes(rep) ? raw.split(rep) : [raw];
  if (values.length > r.repeat) {
    out.push(problem(tag, pos, '12', r, raw));
    return;
  }
  for (const v of values) {
    if (!r.components) {
      const code = checkValue(v, r, ctx);
      if (code) out.push(problem(tag, pos, code, r, v));
      continue;
    }
    const parts = v.split(ctx.delimiters.component);
    if (parts.length > r.components.length) out.push(problem(tag, pos, '13', r, v));
    r.components.forEach((c, i) => {
      const p = parts[i] ?? '';
      const code = p === '' ? (c.mandatory ? '1' : undefined) : checkValue(p, c, { ...ctx, delimiters: { ...ctx.delimiters, component: '\u0000' } });
      if (code) out.push(problem(tag, pos, code, c, p || undefined, i + 1));
    });
  }
}

const NOTE_POSITIONS = new Map<string, number[]>();

function checkNote(tag: string, note: string, els: string[], rule: SegmentRule, out: ElementProblem[]): void {
  const kind = note[0];
  // PERF: a note's positions never change; parse them once.
  let pos = NOTE_POSITIONS.get(note);
  if (!pos) NOTE_POSITIONS.set(note, (pos = (note.slice(1).match(/\d\d/g) ?? []).map(Number)));
  const has = (p: number) => (els[p] ?? '') !== '';
  const first = pos.find((p) => !has(p));
  const missing = (p: number | undefined) => p !== undefined && out.push({ ...problem(tag, p, '2', rule.elements[p - 1]), message: `${name(tag, p)}: required by syntax note ${note}` });
  if (kind === 'P' && pos.some(has) && first !== undefined) missing(first);
  else if (kind === 'R' && !pos.some(has)) missing(pos[0]);
  else if (kind === 'C' && has(pos[0])) missing(pos.slice(1).find((p) => !has(p)));
  else if (kind === 'L' && has(pos[0]) && !pos.slice(1).some(has)) missing(pos[1]);
  else if (kind === 'E') {
    const present = pos.filter(has);
    if (present.length > 1) out.push({ ...problem(tag, present[1], '10', rule.elements[present[1] - 1], els[present[1]]), message: `${name(tag, present[1])}: excluded by syntax note ${note}` });
  }
}

/** Checks one segment against its rule; returns the element problems (AK4/IK4), in element order per check. */
export function checkSegment(segment: Segment, rule: SegmentRule, ctx: CheckContext): ElementProblem[] {
  const out: ElementProblem[] = [];
  const els = segment.elements;
  let last = els.length - 1;
  // Trailing empty elements are tolerated (common in real files, e.g. "AT7*XB*NS***20191103*1534*").
  while (last > 0 && els[last] === '') last--;
  if (rule.maxElements !== undefined && last > rule.maxElements) {
    out.push(problem(segment.tag, rule.maxElements + 1, '3', undefined, els[rule.maxElements + 1]));
  }
  for (let i = 0; i < rule.elements.length; i++) {
    const r = rule.elements[i];
    if (r) checkElement(segment.tag, i + 1, els[i + 1] ?? '', r, ctx, out);
  }
  for (const note of rule.notes) checkNote(segment.tag, note, els, rule, out);
  return out;
}
