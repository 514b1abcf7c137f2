import type { ElementRule, SegmentRule, SyntaxNote } from './set-specs.js';
import type { Delimiters, Segment } from './tokenizer.js';
import { ELEMENT_ERROR_CODES } from './x12-codes.js';
import type { ElementErrorCode } from './x12-codes.js';

/**
 * Element-level validation of one segment against its SegmentRule (set-specs.ts): presence, type, length,
 * code lists, repetitions, composites and syntax notes, each problem carrying its AK4/IK4 code.
 *
 * This runs on most segments of every inbound file, so a segment without problems allocates nothing:
 * values are judged character by character (no regex match arrays, no Date objects, no slices) and the
 * problem list is only created when there is a first problem to put in it.
 */

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

/** What checkSegment returns for a clean segment: shared, so it must never be pushed to. */
const NO_PROBLEMS: readonly ElementProblem[] = Object.freeze([]);

const digit = (v: string, i: number) => v.charCodeAt(i) - 48;

function allDigits(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** CCYYMMDD or YYMMDD (century 20), a real calendar day. */
export function isValidDate(v: string): boolean {
  const n = v.length;
  if ((n !== 6 && n !== 8) || !allDigits(v)) return false;
  let year = n === 8 ? digit(v, 0) * 1000 + digit(v, 1) * 100 + digit(v, 2) * 10 + digit(v, 3) : 2000 + digit(v, 0) * 10 + digit(v, 1);
  // Kept from the Date.UTC check this replaces, which reads years 0-99 as 1900-1999 (so 0000-02-29 is not a day).
  if (year < 100) year += 1900;
  const month = digit(v, n - 4) * 10 + digit(v, n - 3);
  const day = digit(v, n - 2) * 10 + digit(v, n - 1);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= days;
}

/** HHMM[SS[D[D]]]: hours < 24, minutes and seconds < 60. */
export function isValidTime(v: string): boolean {
  const n = v.length;
  if (n !== 4 && n !== 6 && n !== 7 && n !== 8) return false;
  if (!allDigits(v)) return false;
  return digit(v, 0) * 10 + digit(v, 1) < 24 && digit(v, 2) * 10 + digit(v, 3) < 60 && (n === 4 || digit(v, 4) * 10 + digit(v, 5) < 60);
}

/** Digits of an N0/N2 value (`-?\d+`), or -1 when it is not one. */
function integerDigits(v: string): number {
  const start = v.charCodeAt(0) === 45 ? 1 : 0;
  if (v.length === start) return -1;
  for (let i = start; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  return v.length - start;
}

/** Digits of an R value's mantissa (`-?(\d+\.?\d*|\.\d+)(E-?\d+)?`), or -1 when it is not one. */
function decimalDigits(v: string): number {
  const n = v.length;
  let i = v.charCodeAt(0) === 45 ? 1 : 0;
  let digits = 0;
  let dot = false;
  for (; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 46 && !dot) dot = true;
    else break;
  }
  if (digits === 0) return -1;
  if (i === n) return digits;
  if (v.charCodeAt(i++) !== 69) return -1;
  if (i < n && v.charCodeAt(i) === 45) i++;
  if (i === n) return -1;
  for (; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  return digits;
}

/** The character code of a one-character separator, else -1 (then the value is searched for the whole string). */
const codeOf = (sep: string) => (sep.length === 1 ? sep.charCodeAt(0) : -1);

/** The problem with one simple value (present, non-repeated, non-composite), if any. `cc` is codeOf(component). */
function checkValue(v: string, r: ElementRule, component: string, cc: number, legacyDates: boolean): ElementErrorCode | undefined {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === cc) return '6';
  }
  if (cc < 0 && v.includes(component)) return '6';
  let len = v.length;
  const type = r.type;
  if (type === 'N0' || type === 'N2' || type === 'R') {
    // Length counts digits only: no sign, decimal point or exponent.
    len = type === 'R' ? decimalDigits(v) : integerDigits(v);
    if (len < 0) return '6';
  } else if (type === 'DT') {
    if (!isValidDate(v)) return '8';
  } else if (type === 'TM' && !isValidTime(v)) return '9';
  // Before 004010 a CCYYMMDD date element carries YYMMDD.
  const six = legacyDates && type === 'DT' && r.max === 8;
  if (len < (six ? 6 : r.min)) return '4';
  if (len > (six ? 6 : r.max)) return '5';
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

type Problems = ElementProblem[] | undefined;

const push = (out: Problems, p: ElementProblem): ElementProblem[] => {
  if (!out) return [p];
  out.push(p);
  return out;
};

function checkElement(tag: string, pos: number, raw: string, r: ElementRule, ctx: CheckContext, cc: number, out: Problems): Problems {
  if (raw === '') return r.mandatory ? push(out, problem(tag, pos, '1', r)) : out;
  const d = ctx.delimiters;
  const rep = d.repetition;
  // The common case: one simple value.
  if (!r.components && !(rep && raw.includes(rep))) {
    const code = checkValue(raw, r, d.component, cc, ctx.legacyDates);
    return code ? push(out, problem(tag, pos, code, r, raw)) : out;
  }
  const values = rep && raw.includes(rep) ? raw.split(rep) : [raw];
  if (values.length > r.repeat) return push(out, problem(tag, pos, '12', r, raw));
  for (const v of values) {
    if (!r.components) {
      const code = checkValue(v, r, d.component, cc, ctx.legacyDates);
      if (code) out = push(out, problem(tag, pos, code, r, v));
      continue;
    }
    const parts = v.split(d.component);
    if (parts.length > r.components.length) out = push(out, problem(tag, pos, '13', r, v));
    r.components.forEach((c, i) => {
      const p = parts[i] ?? '';
      // Inside a component the component separator was already split on: no character is excluded for it.
      const code = p === '' ? (c.mandatory ? '1' : undefined) : checkValue(p, c, '\u0000', 0, ctx.legacyDates);
      if (code) out = push(out, problem(tag, pos, code, c, p || undefined, i + 1));
    });
  }
  return out;
}

const has = (els: readonly string[], p: number) => p < els.length && els[p] !== '';

function checkNote(tag: string, n: SyntaxNote, els: readonly string[], rule: SegmentRule, out: Problems): Problems {
  const pos = n.positions;
  let present = 0;
  let firstMissing = -1;
  let secondPresent = -1;
  for (let i = 0; i < pos.length; i++) {
    if (has(els, pos[i])) {
      if (++present === 2) secondPresent = pos[i];
    } else if (firstMissing < 0) firstMissing = pos[i];
  }
  let missing = -1;
  if (n.kind === 'P') missing = present > 0 ? firstMissing : -1;
  else if (n.kind === 'R') missing = present === 0 ? pos[0] : -1;
  // C and L hinge on the first element; firstMissing is then the first missing one after it.
  else if (n.kind === 'C') missing = has(els, pos[0]) ? firstMissing : -1;
  else if (n.kind === 'L') missing = has(els, pos[0]) && present === 1 ? pos[1] : -1;
  else if (n.kind === 'E' && secondPresent >= 0) {
    const p = problem(tag, secondPresent, '10', rule.elements[secondPresent - 1], els[secondPresent]);
    return push(out, { ...p, message: `${name(tag, secondPresent)}: excluded by syntax note ${n.note}` });
  }
  if (missing < 0) return out;
  return push(out, { ...problem(tag, missing, '2', rule.elements[missing - 1]), message: `${name(tag, missing)}: required by syntax note ${n.note}` });
}

/** Checks one segment against its rule; returns the element problems (AK4/IK4), in element order per check. */
export function checkSegment(segment: Segment, rule: SegmentRule, ctx: CheckContext): readonly ElementProblem[] {
  let out: Problems;
  const els = segment.elements;
  const tag = segment.tag;
  let last = els.length - 1;
  // Trailing empty elements are tolerated (common in real files, e.g. "AT7*XB*NS***20191103*1534*").
  while (last > 0 && els[last] === '') last--;
  if (rule.maxElements !== undefined && last > rule.maxElements) {
    out = push(out, problem(tag, rule.maxElements + 1, '3', undefined, els[rule.maxElements + 1]));
  }
  const rules = rule.elements;
  const cc = codeOf(ctx.delimiters.component);
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (r) out = checkElement(tag, i + 1, i + 1 < els.length ? els[i + 1] : '', r, ctx, cc, out);
  }
  const notes = rule.syntax;
  for (let i = 0; i < notes.length; i++) out = checkNote(tag, notes[i], els, rule, out);
  return out ?? NO_PROBLEMS;
}
