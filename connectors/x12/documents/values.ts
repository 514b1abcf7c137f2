import { isValidDate } from '../segment-checks.js';
import type { Segment } from '../tokenizer.js';

/**
 * Reading element values defensively. Every reader returns undefined rather than throwing or passing
 * on something that is not a valid value of its kind: a document built from a damaged set must still
 * validate, and a missing business key must be absent rather than garbage.
 */

/** Qualifiers present in the data without a named field, as `TAG.qualifier` → values (see business-documents.ts). */
export type Extra = Record<string, string[]>;

export function addExtra(extra: Extra, name: string, value: string | undefined): void {
  if (!value) return;
  (extra[name.slice(0, 40)] ??= []).push(value.slice(0, 1000));
}

/** Element n exactly as sent ('' when absent). */
export function raw(seg: Segment | undefined, n: number): string {
  return seg?.elements[n] ?? '';
}

/**
 * Element n as a simple value: trimmed, and cut at the component separator. Delimiters may not occur in
 * data, so a component separator inside a simple element is a syntax error; keeping the first component
 * salvages the value in the one way this happens in real files (an ISA with ISA16 missing, which leaves
 * the would-be terminator as component separator and at the end of every segment). The repetition
 * separator is deliberately not split on: senders using `-` as ISA11 still put dashes in their data.
 */
export function el(seg: Segment | undefined, n: number): string | undefined {
  const v = raw(seg, n);
  if (!v) return undefined;
  // The tokenizer saw no component separator in this segment: nothing to cut (the scan below was ~18 % of
  // building an 856's documents).
  if (seg!.composite === false) return trimmed(v) || undefined;
  const c = seg!.delimiters.component;
  let end = v.length;
  // PERF: builders read millions of short values; a character loop beats the indexOf call on them.
  if (c.length === 1) {
    const cc = c.charCodeAt(0);
    for (let i = 0; i < end; i++) if (v.charCodeAt(i) === cc) end = i;
  } else if (c) {
    const at = v.indexOf(c);
    if (at >= 0) end = at;
  }
  return trimmed(end < v.length ? v.slice(0, end) : v) || undefined;
}

/** s.trim(), skipping the call when s starts and ends with a visible ASCII character (nearly always). */
export function trimmed(s: string): string {
  const n = s.length;
  if (n === 0) return s;
  const a = s.charCodeAt(0);
  const b = s.charCodeAt(n - 1);
  return a > 32 && a < 127 && b > 32 && b < 127 ? s : s.trim();
}

/** s.toUpperCase(), skipping the call when s has no lower-case or non-ASCII letter (nearly always). */
export function upper(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 97 && c <= 122) || c > 127) return s.toUpperCase();
  }
  return s;
}

/** Components of element n (composites such as C001 units, C030 positions, CTX01). */
export function components(seg: Segment | undefined, n: number): string[] {
  const v = raw(seg, n);
  if (!v) return [];
  const c = seg!.delimiters.component;
  return (c ? v.split(c) : [v]).map((s) => s.trim());
}

/** Free text (names, descriptions): the whole element, trimmed, trailing stray separators removed. */
export function text(seg: Segment | undefined, n: number): string | undefined {
  let v = trimmed(raw(seg, n));
  const c = seg?.delimiters.component;
  while (c && v.endsWith(c)) v = v.slice(0, -c.length).trimEnd();
  return v ? v.slice(0, 1000) : undefined;
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

const asciiAlnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** Whether `t` holds a letter or digit. Most keys start with one in ASCII; the Unicode classes decide the rest. */
function hasLetterOrDigit(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c >= 0x80) return LETTER_OR_DIGIT.test(t);
    if (asciiAlnum(c)) return true;
  }
  return false;
}

/** A business key: present only when it holds a letter or digit (`----------` is a placeholder, not a PO). */
export function key(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const t = trimmed(v);
  return t.length > 0 && t.length <= 128 && hasLetterOrDigit(t) ? t : undefined;
}

export function keyAt(seg: Segment | undefined, n: number): string | undefined {
  return key(el(seg, n));
}

/** An X12 ID code (qualifiers, status codes): 1-3 letters or digits. */
export function code(v: string | undefined): string | undefined {
  if (!v || v.length > 3) return undefined;
  for (let i = 0; i < v.length; i++) if (!asciiAlnum(v.charCodeAt(i))) return undefined;
  return v;
}

export function codeAt(seg: Segment | undefined, n: number): string | undefined {
  return code(el(seg, n));
}

/**
 * A short unit code: `v` upper-cased when that is `min` to 2 letters or digits. PERF: one or two ASCII letters or
 * digits (nearly every value) are decided without toUpperCase() and a regex; anything else goes the long way,
 * since upper-casing a non-ASCII letter can yield ASCII (`ß` becomes `SS`).
 */
function unitCode(v: string | undefined, min: 1 | 2): string | undefined {
  if (!v) return undefined;
  const n = v.length;
  if (n <= 2 && asciiAlnum(v.charCodeAt(0)) && (n === 1 || asciiAlnum(v.charCodeAt(1)))) return n >= min ? upper(v) : undefined;
  const u = v.toUpperCase();
  return (min === 2 ? /^[A-Z0-9]{2}$/ : /^[A-Z0-9]{1,2}$/).test(u) ? u : undefined;
}

/** Unit of measure (355): exactly two letters or digits. A composite C001 reads its first component. */
export function uomAt(seg: Segment | undefined, n: number): string | undefined {
  return unitCode(el(seg, n), 2);
}

export function weightUnitAt(seg: Segment | undefined, n: number): string | undefined {
  return unitCode(el(seg, n), 1);
}

/** `-?(\d+(\.\d*)?|\.\d+)`: digits with at most one decimal point, at least one digit. */
function isDecimal(v: string): boolean {
  let digits = 0;
  let dot = false;
  for (let i = v.charCodeAt(0) === 45 ? 1 : 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 46 && !dot) dot = true;
    else return false;
  }
  return digits > 0;
}

/** Decimal (R): optional sign, digits, optional decimal point. */
export function decimal(v: string | undefined): number | undefined {
  if (!v || !isDecimal(v)) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export function decimalAt(seg: Segment | undefined, n: number): number | undefined {
  return decimal(el(seg, n));
}

/**
 * Amount with 2 implied decimals (N2, e.g. TDS01 and SAC05: `255438` is 2554.38). A value that
 * does carry a decimal point is taken as written: the sender plainly meant that amount.
 */
export function impliedCentsAt(seg: Segment | undefined, n: number): number | undefined {
  const v = el(seg, n);
  if (!v) return undefined;
  if (!/^-?\d+$/.test(v)) return decimal(v);
  const cents = Number(v) / 100;
  return Number.isFinite(cents) ? cents : undefined;
}

/** Non-negative integer (counts, HL positions). */
export function countAt(seg: Segment | undefined, n: number): number | undefined {
  const v = el(seg, n);
  if (!v || !/^\d{1,9}$/.test(v)) return undefined;
  return Number(v);
}

/**
 * X12 date to ISO `YYYY-MM-DD`: CCYYMMDD, or YYMMDD (older versions and TA102) with the century
 * chosen by a fixed window (00-49 → 20xx, 50-99 → 19xx). Impossible dates (month 13, Feb 30) are absent.
 */
export function isoDate(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const s = v.trim();
  // isValidDate checks digits, month and day. It reads YYMMDD as 20YY; 19YY (YY >= 50 here) has the same leap years.
  if (!isValidDate(s)) return undefined;
  if (s.length === 6) {
    const yy = Number(s.slice(0, 2));
    return `${yy < 50 ? 2000 + yy : 1900 + yy}-${s.slice(2, 4)}-${s.slice(4, 6)}`;
  }
  // Years before 1000 are not business dates (0000-0999 usually mean a placeholder).
  if (s.charCodeAt(0) === 48) return undefined;
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
}

export function isoDateAt(seg: Segment | undefined, n: number): string | undefined {
  return isoDate(el(seg, n));
}

/** X12 time HHMM[SS[D[D]]] to `HH:MM[:SS[.D[D]]]`. */
export function isoTime(v: string | undefined): string | undefined {
  const m = v?.trim().match(/^([01]\d|2[0-3])([0-5]\d)(?:([0-5]\d)(\d{1,2})?)?$/);
  if (!m) return undefined;
  return `${m[1]}:${m[2]}${m[3] ? `:${m[3]}` : ''}${m[4] ? `.${m[4]}` : ''}`;
}

export function isoTimeAt(seg: Segment | undefined, n: number): string | undefined {
  return isoTime(el(seg, n));
}
