import { X12FunctionalGroup, X12Interchange as NxInterchange, X12Segment, X12SerializationOptions } from 'node-x12';
import type { X12Finding, X12Group, X12Interchange, X12TransactionSet } from './model.js';
import { isValidDate, isValidTime } from './segment-checks.js';
import { isSupportedSet } from './set-specs.js';
import type { GroupAckCode, SetAckCode, Ta1AckCode, Ta1NoteCode } from './x12-codes.js';

/**
 * Outbound acknowledgments (TA1, 997, 999) assembled with node-x12's object model, so ISA padding,
 * SE/GE/IEA counts and trailer control numbers come from the library rather than from string building.
 * What to say (accept/reject, codes) comes from the walker's findings; persistence of our control
 * numbers is the caller's job. Every output must pass our own EnvelopeWalker with zero findings.
 */

export interface AckDelimiters {
  element: string;
  component: string;
  segment: string;
  /** Written to ISA11 for 00402+ envelopes; 'U' is written for older ones. */
  repetition: string;
}

export interface AckParty {
  /** ISA05/ISA07 */
  qualifier: string;
  /** ISA06/ISA08, unpadded */
  id: string;
  /** GS02/GS03 */
  appCode?: string;
}

export interface AckEnvelopeOptions {
  controlNumbers: { isa13: number; gs06: number; st02: number };
  delimiters?: Partial<AckDelimiters>;
  /** Envelope dates/times, written in UTC. */
  now?: Date;
  /** Our side; defaults to the inbound receiver (ISA07/ISA08, GS03). */
  sender?: AckParty;
  /** The partner; defaults to the inbound sender (ISA05/ISA06, GS02). */
  receiver?: AckParty;
  /** ISA15; defaults to the inbound one so test traffic is acknowledged as test. */
  usage?: 'P' | 'T' | 'I';
  /** ISA12; defaults to 00401 for the 997 and TA1, 00501 for the 999. */
  isaVersion?: string;
  /** GS08; defaults to 004010 for the 997, 005010X231A1 for the 999. */
  gsVersion?: string;
}

export interface Ta1Request {
  accepted: boolean;
  /** TA105; '000' when there is nothing to note. An accepted interchange with a note is acknowledged 'E'. */
  noteCode: Ta1NoteCode;
}

export interface GroupAckOptions extends AckEnvelopeOptions {
  /** 'reject' (default): a set with segment/element errors is R. 'note_errors': it is E, counted as accepted. */
  handling?: 'reject' | 'note_errors';
  /** Which ST01 values we process; others are acknowledged R with AK5 1. Defaults to set-specs. */
  isSupported?: (setId: string) => boolean;
  /** 999 only: the business unit identifier written as CTX after each IK3 (e.g. BEG03 of the set). */
  businessUnit?: (set: X12TransactionSet) => { name: string; value: string } | undefined;
  /** Also put a TA1 for the inbound interchange in the acknowledgment's interchange. */
  ta1?: Ta1Request;
}

const DEFAULT_DELIMITERS: AckDelimiters = { element: '*', component: '>', segment: '~', repetition: '^' };
const MAX_CODES = 5;
/** AK4/IK4 may repeat at most 99 times per AK3/IK3. */
const MAX_ELEMENT_NOTES = 99;

const yymmdd = (d: Date) => d.toISOString().slice(2, 10).replace(/-/g, '');
const hhmm = (d: Date) => d.toISOString().slice(11, 16).replace(':', '');

function delimitersOf(o: Pick<AckEnvelopeOptions, 'delimiters'>): AckDelimiters {
  const d = { ...DEFAULT_DELIMITERS, ...o.delimiters };
  const all = [d.element, d.component, d.segment, d.repetition];
  if (all.some((c) => c.length !== 1 || /[A-Za-z0-9 ]/.test(c)) || new Set(all).size !== 4) {
    throw new Error(`ack delimiters must be four distinct non-alphanumeric characters, got ${JSON.stringify(d)}`);
  }
  return d;
}

/** Drops characters that would break our own syntax (delimiters, control characters) from echoed data. */
function clean(value: string, d: AckDelimiters): string {
  // eslint-disable-next-line no-control-regex
  return [...value].filter((c) => !/[\x00-\x1f\x7f]/.test(c) && c !== d.element && c !== d.component && c !== d.segment && c !== d.repetition).join('');
}

function trimTrailing(values: string[]): string[] {
  const out = [...values];
  while (out.length > 1 && out[out.length - 1] === '') out.pop();
  return out;
}

function checkedParty(p: AckParty, role: string): AckParty {
  if (!/^[A-Z0-9]{2}$/.test(p.qualifier) || p.id.length < 1 || p.id.length > 15) {
    throw new Error(`cannot acknowledge: ${role} ${p.qualifier}/${p.id} does not fit ISA05-08 (2-character qualifier, 1-15 character ID)`);
  }
  return p;
}

interface Envelope {
  nx: NxInterchange;
  opts: X12SerializationOptions;
  d: AckDelimiters;
  now: Date;
  us: AckParty;
  them: AckParty;
}

function envelope(ic: X12Interchange, o: Omit<AckEnvelopeOptions, 'controlNumbers'> & { isa13: number }, isaVersion: string): Envelope {
  const d = delimitersOf(o);
  const now = o.now ?? new Date();
  if (!Number.isInteger(o.isa13) || o.isa13 < 1 || o.isa13 > 999_999_999) throw new Error(`ISA13 must be 1..999999999, got ${o.isa13}`);
  const us = checkedParty(o.sender ?? { qualifier: ic.receiverQualifier, id: ic.receiverId }, 'sender');
  const them = checkedParty(o.receiver ?? { qualifier: ic.senderQualifier, id: ic.senderId }, 'receiver');
  const usage = o.usage ?? (/^[PTI]$/.test(ic.usage) ? ic.usage : 'P');
  const opts = new X12SerializationOptions({ elementDelimiter: d.element, segmentTerminator: d.segment, subElementDelimiter: d.component, repetitionDelimiter: d.repetition, format: false });
  const nx = new NxInterchange(opts);
  const isa11 = isaVersion >= '00402' ? d.repetition : 'U';
  nx.setHeader(['00', '', '00', '', us.qualifier, us.id, them.qualifier, them.id, yymmdd(now), hhmm(now), isa11, isaVersion, String(o.isa13), '0', usage, d.component]);
  return { nx, opts, d, now, us, them };
}

function ta1Segment(ic: X12Interchange, req: Ta1Request, env: Envelope): X12Segment {
  if (!req.accepted && req.noteCode === '000') throw new Error('a rejected interchange needs a TA105 note code other than 000');
  const code: Ta1AckCode = !req.accepted ? 'R' : req.noteCode === '000' ? 'A' : 'E';
  // TA101-103 echo ISA13/09/10. When those are themselves the error (018/014/015), the nearest valid value
  // is sent instead so the TA1 stays parseable; the note code tells the partner what was wrong.
  const control = /^\d{1,9}$/.test(ic.controlNumber) ? ic.controlNumber.padStart(9, '0') : '000000000';
  const date = /^\d{6}$/.test(ic.date) && isValidDate(ic.date) ? ic.date : yymmdd(env.now);
  const time = /^\d{4}$/.test(ic.time) && isValidTime(ic.time) ? ic.time : hhmm(env.now);
  return new X12Segment('TA1', env.opts).setElements([control, date, time, code, req.noteCode]);
}

/** The interchange as text: node-x12 has no place for a TA1, so its serialized segments are joined in order. */
function serialize(env: Envelope, ta1?: X12Segment, group?: X12FunctionalGroup): string {
  return [env.nx.header, ta1, group, env.nx.trailer].filter((p) => p !== undefined).map((p) => p.toString(env.opts)).join('');
}

/** A TA1 for an inbound interchange, as a TA1-only interchange (ISA, TA1, IEA). */
export function buildTa1(
  interchange: X12Interchange,
  options: Ta1Request & Omit<AckEnvelopeOptions, 'controlNumbers'> & { controlNumbers: { isa13: number } },
): string {
  const isaVersion = options.isaVersion ?? (/^00[2-9]0\d$/.test(interchange.version) ? interchange.version : '00401');
  const env = envelope(interchange, { ...options, isa13: options.controlNumbers.isa13 }, isaVersion);
  return serialize(env, ta1Segment(interchange, options, env));
}

interface SetVerdict {
  code: SetAckCode;
  codes: string[];
}

function verdict(set: X12TransactionSet, o: GroupAckOptions): SetVerdict {
  const setCodes = [...new Set(set.findings.filter((f) => f.level === 'set').map((f) => f.code))];
  const contentErrors = set.findings.some((f) => f.level === 'segment' || f.level === 'element');
  if (!(o.isSupported ?? isSupportedSet)(set.id)) return { code: 'R', codes: ['1', ...setCodes.filter((c) => c !== '1')].slice(0, MAX_CODES) };
  const codes = [...setCodes, ...(contentErrors ? ['5'] : [])].slice(0, MAX_CODES);
  if (set.accepted) return { code: 'A', codes };
  return { code: setCodes.length === 0 && o.handling === 'note_errors' ? 'E' : 'R', codes };
}

function groupCode(group: X12Group, verdicts: SetVerdict[]): GroupAckCode {
  const accepted = verdicts.filter((v) => v.code !== 'R').length;
  if (group.findings.some((f) => f.level === 'group') || accepted === 0) return 'R';
  if (accepted < verdicts.length) return 'P';
  // Segments between sets (outside ST/SE) cannot be described per set: the group is accepted with errors noted.
  return verdicts.some((v) => v.code === 'E') || group.findings.length > 0 ? 'E' : 'A';
}

/** A set can only be named in AK2 when its ST01/ST02 fit AK201 (ID 3/3) and AK202 (AN 4/9). */
const identifiable = (s: X12TransactionSet, d: AckDelimiters) => /^[A-Z0-9]{3}$/.test(s.id) && /^.{4,9}$/.test(s.controlNumber) && clean(s.controlNumber, d) === s.controlNumber;

/** AK3/AK4 (or IK3/IK4 + CTX) for one set's segment and element findings, in segment order. */
function segmentNotes(set: X12TransactionSet, kind: '997' | '999', env: Envelope, add: (tag: string, els: string[]) => void, context?: { name: string; value: string }): void {
  const [seg, el, maxPos] = kind === '997' ? ['AK3', 'AK4', 999_999] : ['IK3', 'IK4', 9_999_999_999];
  const bySegment = (f: X12Finding) => `${f.position.setPosition}`;
  const elements = new Map<string, X12Finding[]>();
  for (const f of set.findings.filter((x) => x.level === 'element')) elements.set(bySegment(f), [...(elements.get(bySegment(f)) ?? []), f]);
  const segments = set.findings.filter((f) => f.level === 'segment').sort((a, b) => (a.position.setPosition ?? 0) - (b.position.setPosition ?? 0));
  for (const f of segments) {
    const tag = (f.position.tag ?? '').slice(0, 3);
    const pos = f.position.setPosition ?? 0;
    // A segment ID or position the AK3 cannot hold is left to the AK5 code 5 alone.
    if (!/^[A-Z0-9]{2,3}$/.test(tag) || pos < 1 || pos > maxPos) continue;
    add(seg, [tag, String(pos), '', f.code]);
    if (kind === '999' && context) add('CTX', [`${clean(context.name, env.d)}${env.d.component}${clean(context.value, env.d)}`]);
    if (f.code !== '8') continue;
    for (const e of (elements.get(bySegment(f)) ?? []).slice(0, MAX_ELEMENT_NOTES)) {
      const position = `${e.position.element ?? 1}${e.position.component ? `${env.d.component}${e.position.component}` : ''}`;
      const ref = e.elementRef && /^\d{1,4}$/.test(e.elementRef) ? e.elementRef : '';
      add(el, trimTrailing([position, ref, e.code, clean(e.badValue ?? '', env.d).slice(0, 99)]));
    }
  }
}

function buildGroupAck(kind: '997' | '999', group: X12Group, ic: X12Interchange, o: GroupAckOptions): string {
  const isaVersion = o.isaVersion ?? (kind === '997' ? '00401' : '00501');
  const gsVersion = o.gsVersion ?? (kind === '997' ? '004010' : '005010X231A1');
  const env = envelope(ic, { ...o, isa13: o.controlNumbers.isa13 }, isaVersion);
  const { d } = env;
  if (!/^[A-Z0-9]{2}$/.test(group.functionalId) || !/^\d{1,9}$/.test(group.controlNumber)) {
    throw new Error(`cannot acknowledge group GS01 "${group.functionalId}" GS06 "${group.controlNumber}" in AK1: reject the interchange with a TA1 instead`);
  }
  // GS02/GS03 swap the inbound application codes; one that cannot be echoed (AN 2/15) falls back to the ISA ID.
  const app = (code: string | undefined, party: AckParty) => [code, party.id].map((c) => clean(c ?? '', d)).find((c) => c.length >= 2 && c.length <= 15);
  const usApp = app(o.sender?.appCode ?? group.receiverCode, env.us);
  const themApp = app(o.receiver?.appCode ?? group.senderCode, env.them);
  if (!usApp || !themApp) throw new Error(`cannot acknowledge: no 2-15 character application code for GS02/GS03`);
  const { gs06, st02 } = o.controlNumbers;
  if (!Number.isInteger(gs06) || gs06 < 1 || gs06 > 999_999_999 || !Number.isInteger(st02) || st02 < 1 || st02 > 999_999_999) {
    throw new Error(`GS06 and ST02 must be 1..999999999, got ${gs06} and ${st02}`);
  }
  const fg = env.nx.addFunctionalGroup(env.opts);
  fg.setHeader(['FA', usApp, themApp, `20${yymmdd(env.now)}`, hhmm(env.now), String(gs06), 'X', gsVersion]);
  const tx = fg.addTransaction();
  tx.setHeader(kind === '997' ? ['997', String(st02).padStart(4, '0')] : ['999', String(st02).padStart(4, '0'), gsVersion]);
  const add = (tag: string, els: string[]) => void tx.addSegment(tag, els);

  const version = kind === '999' && /^.{1,12}$/.test(group.version) && clean(group.version, d) === group.version ? [group.version] : [];
  add('AK1', [group.functionalId, group.controlNumber, ...version]);
  // Read once: after a streaming walk the records are rebuilt on every read (see X12Group.sets).
  const sets = group.sets;
  const verdicts = sets.map((s) => verdict(s, o));
  sets.forEach((set, i) => {
    if (!identifiable(set, d)) return;
    const ref = kind === '999' && set.implementationRef && clean(set.implementationRef, d) === set.implementationRef ? [set.implementationRef] : [];
    add('AK2', [set.id, set.controlNumber, ...ref]);
    segmentNotes(set, kind, env, add, kind === '999' ? o.businessUnit?.(set) : undefined);
    add(kind === '997' ? 'AK5' : 'IK5', [verdicts[i].code, ...verdicts[i].codes]);
  });
  const received = sets.length;
  const ge01 = group.trailer?.elements[1] ?? '';
  const included = /^\d{1,6}$/.test(ge01) ? Number(ge01) : received;
  const groupCodes = [...new Set(group.findings.filter((f) => f.level === 'group').map((f) => f.code))].slice(0, MAX_CODES);
  const accepted = verdicts.filter((v) => v.code !== 'R').length;
  add('AK9', [groupCode(group, verdicts), String(included), String(received), String(accepted), ...groupCodes]);
  return serialize(env, o.ta1 ? ta1Segment(ic, o.ta1, env) : undefined, fg);
}

/** A 997 functional acknowledgment for one inbound group (004010 envelope unless told otherwise). */
export function build997(group: X12Group, interchange: X12Interchange, options: GroupAckOptions): string {
  return buildGroupAck('997', group, interchange, options);
}

/** A 999 implementation acknowledgment (005010X231A1) for one inbound group. */
export function build999(group: X12Group, interchange: X12Interchange, options: GroupAckOptions): string {
  return buildGroupAck('999', group, interchange, options);
}
