import type { X12Finding, X12Group, X12Interchange, X12Position, X12TransactionSet } from './model.js';
import { checkSegment, isValidDate, isValidTime } from './segment-checks.js';
import { ENVELOPE_RULES } from './set-specs.js';
import type { Segment } from './tokenizer.js';
import { describeCode } from './x12-codes.js';
import type { CodeByLevel, Ta1NoteCode } from './x12-codes.js';

/**
 * Stateless checks of the envelope segments (ISA/IEA, GS/GE, ST/SE and the interchange service segments),
 * each returning findings with the code its acknowledgment uses. The EnvelopeWalker decides when to call them.
 */

/** A garbage tail of a million segments must not become a million findings: past this, findings are dropped. */
export const MAX_FINDINGS = 1000;

export function add(list: X12Finding[], ...found: X12Finding[]): void {
  for (const f of found) if (list.length < MAX_FINDINGS) list.push(f);
}

export function finding<L extends keyof CodeByLevel>(level: L, code: CodeByLevel[L], detail: string, at: Segment, pos: Partial<X12Position> = {}): X12Finding {
  return { level, code, message: `${detail} (${describeCode(level, code)})`, position: { segmentIndex: at.index, offset: at.offset, tag: at.tag, ...pos } };
}

/** Control numbers match when equal as numbers (N0 elements may drop leading zeros), otherwise as strings. */
export function sameControl(a: string, b: string): boolean {
  return /^\d{1,18}$/.test(a) && /^\d{1,18}$/.test(b) ? BigInt(a) === BigInt(b) : a === b;
}

/** Releases before 004010 (e.g. GS08 003010) use YYMMDD dates. */
export const legacyDates = (version: string) => /^\d{6}/.test(version) && Number(version.slice(0, 6)) < 4010;

/** ISA fields are padded with spaces (and, from some senders, NBSP); the IDs are compared without it. */
export const trimPad = (s: string | undefined) => (s ?? '').replace(/^[\s\u00a0]+|[\s\u00a0]+$/g, '');

const pad2 = (n: number) => String(n).padStart(2, '0');

/** ISA is fixed-length: each field has one width and its own TA1 note code. */
export function checkIsa(isa: Segment): X12Finding[] {
  const out: X12Finding[] = [];
  const e = isa.elements;
  const d = isa.delimiters;
  const length = e.join(d.element).length + d.segment.length;
  if (length !== 106) out.push(finding('interchange', '022', `ISA is ${length} characters long, not 106`, isa));
  const special = (c: string) => c.length === 1 && !/[A-Za-z0-9\s]/.test(c) && c !== d.element && c !== d.segment;
  const version = e[12] ?? '';
  const rules: [number, (v: string) => boolean, Ta1NoteCode, string][] = [
    [1, (v) => /^0[0-6]$/.test(v), '010', 'is not an authorization information qualifier'],
    [2, (v) => v.length === 10, '011', 'is not 10 characters'],
    [3, (v) => /^0[01]$/.test(v), '012', 'is not a security information qualifier'],
    [4, (v) => v.length === 10, '013', 'is not 10 characters'],
    [5, (v) => /^[A-Z0-9]{2}$/.test(v), '005', 'is not an interchange ID qualifier'],
    [6, (v) => v.length === 15 && trimPad(v) !== '', '006', 'is not a 15-character sender ID'],
    [7, (v) => /^[A-Z0-9]{2}$/.test(v), '007', 'is not an interchange ID qualifier'],
    [8, (v) => v.length === 15 && trimPad(v) !== '', '008', 'is not a 15-character receiver ID'],
    [9, (v) => /^\d{6}$/.test(v) && isValidDate(v), '014', 'is not a YYMMDD date'],
    [10, (v) => /^\d{4}$/.test(v) && isValidTime(v), '015', 'is not an HHMM time'],
    // 'U' before 00402; from 00402 a repetition separator, though 'U' is still common and harmless there.
    [11, (v) => v === 'U' || (version >= '00402' && special(v) && v !== d.component), '016', 'is neither U nor a valid repetition separator'],
    [12, (v) => /^00[2-9]0\d$/.test(v), '017', 'is not a control version number'],
    [13, (v) => /^\d{9}$/.test(v), '018', 'is not 9 digits'],
    [14, (v) => /^[01]$/.test(v), '019', 'is not 0 or 1'],
    [15, (v) => /^[PTI]$/.test(v), '020', 'is not P, T or I'],
    [16, (v) => special(v), '027', 'is not a usable component separator'],
  ];
  for (const [i, ok, code, what] of rules) {
    const v = e[i] ?? '';
    if (!ok(v)) out.push(finding('interchange', code, `ISA${pad2(i)} "${v}" ${what}`, isa, { element: i }));
  }
  return out;
}

/**
 * An ISA without ISA16 makes its segment terminator look like ISA16 and the line break the terminator;
 * every later segment then ends with that character. Checked on the segment right after the ISA.
 */
export function checkMissingIsa16(seg: Segment): X12Finding[] {
  const c = seg.delimiters.component;
  const last = seg.elements[seg.elements.length - 1] ?? '';
  if (last.length < 2 || !last.endsWith(c)) return [];
  return [finding('interchange', '027', `${seg.tag} ends with ISA16 "${c}": ISA16 is probably missing and the terminator was read as ISA16`, seg)];
}

const ISE_CODES: Record<number, Ta1NoteCode> = { 1: '028', 2: '029', 3: '030' };

/** TA1, ISB and ISE at interchange level; their problems can only be told in a TA1 note code. */
export function checkServiceSegment(seg: Segment): X12Finding[] {
  const rule = ENVELOPE_RULES[seg.tag as 'TA1' | 'ISB' | 'ISE'];
  return checkSegment(seg, rule, { delimiters: seg.delimiters, legacyDates: false }).map((p) => {
    const code: Ta1NoteCode = seg.tag === 'ISB' ? '031' : seg.tag === 'ISE' ? (ISE_CODES[p.element] ?? '024') : '024';
    return finding('interchange', code, p.message, seg, { element: p.element, component: p.component });
  });
}

/** GS06 has its own AK9 code (6); any other GS problem can only be reported at interchange level (TA1 024). */
export function checkGs(gs: Segment, group: X12Group, ic: X12Interchange): void {
  for (const p of checkSegment(gs, ENVELOPE_RULES.GS, { delimiters: gs.delimiters, legacyDates: legacyDates(group.version) })) {
    if (p.element === 6) add(group.findings, finding('group', '6', p.message, gs, { element: 6 }));
    else add(ic.findings, finding('interchange', '024', `GS: ${p.message}`, gs, { element: p.element, component: p.component }));
  }
}

export function checkGe(ge: Segment, group: X12Group): X12Finding[] {
  const out: X12Finding[] = [];
  const [count, control] = [ge.elements[1] ?? '', ge.elements[2] ?? ''];
  if (!/^\d{1,6}$/.test(count) || Number(count) !== group.setCount) {
    out.push(finding('group', '5', `GE01 "${count}" but the group has ${group.setCount} transaction set(s)`, ge, { element: 1 }));
  }
  if (!sameControl(group.controlNumber, control)) {
    out.push(finding('group', '4', `GE02 "${control}" does not match GS06 "${group.controlNumber}"`, ge, { element: 2 }));
  }
  return out;
}

export function checkIea(iea: Segment, ic: X12Interchange): X12Finding[] {
  const out: X12Finding[] = [];
  const [count, control] = [iea.elements[1] ?? '', iea.elements[2] ?? ''];
  if (!/^\d{1,5}$/.test(count) || Number(count) !== ic.groups.length) {
    out.push(finding('interchange', '021', `IEA01 "${count}" but the interchange has ${ic.groups.length} functional group(s)`, iea, { element: 1 }));
  }
  if (!sameControl(ic.controlNumber, control)) {
    out.push(finding('interchange', '001', `IEA02 "${control}" does not match ISA13 "${ic.controlNumber}"`, iea, { element: 2 }));
  } else if (!/^\d{9}$/.test(control)) {
    // Same number, wrong form: IEA02 is fixed-width (I12, N0 9/9), so "3438" for 000003438 is reported as an error.
    out.push(finding('interchange', '018', `IEA02 "${control}" is not the 9-digit form of ISA13 "${ic.controlNumber}"`, iea, { element: 2 }));
  }
  // With a line-break terminator the last line often lacks one; with any other terminator the data was cut.
  if (iea.unterminated && !/^[\r\n]$/.test(iea.delimiters.segment)) {
    out.push(finding('interchange', '023', `the IEA has no segment terminator "${iea.delimiters.segment}"`, iea));
  }
  return out;
}

/** ST01/ST02/ST03 syntax and ST02 uniqueness within the group. */
export function checkSt(st: Segment, set: X12TransactionSet, group: X12Group, seenIds: { has(controlNumber: string): boolean }): X12Finding[] {
  const out: X12Finding[] = [];
  const d = st.delimiters;
  // eslint-disable-next-line no-control-regex
  const clean = (v: string) => !/[\x00-\x1f]/.test(v) && !v.includes(d.component) && (!d.repetition || !v.includes(d.repetition));
  if (!/^[A-Z0-9]{3}$/.test(set.id)) out.push(finding('set', '6', `ST01 "${set.id}" is not a transaction set identifier`, st, { element: 1, setPosition: 1 }));
  if (!/^.{4,9}$/.test(set.controlNumber) || !clean(set.controlNumber)) {
    out.push(finding('set', '7', `ST02 "${set.controlNumber}" is not a 4-9 character control number`, st, { element: 2, setPosition: 1 }));
  } else if (seenIds.has(set.controlNumber)) {
    out.push(finding('set', '23', `ST02 "${set.controlNumber}" repeats an earlier set in group ${group.controlNumber}`, st, { element: 2, setPosition: 1 }));
  }
  if (set.implementationRef !== undefined && (set.implementationRef.length > 35 || !clean(set.implementationRef))) {
    out.push(finding('set', '19', `ST03 "${set.implementationRef}" is not an implementation convention reference`, st, { element: 3, setPosition: 1 }));
  }
  return out;
}

/** SE01 must count ST..SE inclusive (`count`), SE02 repeat ST02 exactly (it is AN: leading zeros matter). */
export function checkSe(se: Segment, set: X12TransactionSet, count: number): X12Finding[] {
  const out: X12Finding[] = [];
  const [n, control] = [se.elements[1] ?? '', se.elements[2] ?? ''];
  if (!/^\d{1,10}$/.test(n) || Number(n) !== count) {
    out.push(finding('set', '4', `SE01 "${n}" but the set has ${count} segments (ST..SE)`, se, { element: 1, setPosition: count }));
  }
  if (control !== set.controlNumber) out.push(finding('set', '3', `SE02 "${control}" does not match ST02 "${set.controlNumber}"`, se, { element: 2, setPosition: count }));
  return out;
}
