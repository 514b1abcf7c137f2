import {
  add,
  checkGe,
  checkGs,
  checkIea,
  checkIsa,
  checkMissingIsa16,
  checkSe,
  checkServiceSegment,
  checkSt,
  finding,
  legacyDates,
  trimPad,
} from './envelope-checks.js';
import type { X12Finding, X12Group, X12Interchange, X12TransactionSet } from './model.js';
import { OpenSet } from './set-content.js';
import { SetLedger } from './set-ledger.js';
import { SEGMENT_ID, SET_SPECS } from './set-specs.js';
import { X12Tokenizer } from './tokenizer.js';
import type { Segment } from './tokenizer.js';
import type { Ta1NoteCode } from './x12-codes.js';

/**
 * Streaming envelope walker: fed one Segment at a time, it tracks ISA/GS/ST nesting, validates the
 * envelopes and the supported sets' content, and reports every problem as an X12Finding carrying the code
 * its acknowledgment will use. It never throws on content: a broken file yields findings, not exceptions.
 * A missing trailer is inferred from the next envelope segment (or the end) and reported, and the
 * enclosing structures still complete, so one bad set does not hide the rest of the interchange.
 */
export interface EnvelopeHandlers {
  /** A set is complete (SE seen, or its end inferred). Its segments are dropped after this returns. */
  onSet?: (set: X12TransactionSet, group: X12Group, interchange: X12Interchange) => void;
  onGroupEnd?: (group: X12Group, interchange: X12Interchange) => void;
  /** Called once the segment after the IEA (or the end) shows nothing illegal trails the interchange. */
  onInterchangeEnd?: (interchange: X12Interchange) => void;
}

export interface EnvelopeWalkerOptions {
  /**
   * Keep each set's segments after onSet, and every set's record in its group. walk() does; streaming callers
   * should not, to stay in flat memory (a group then keeps clean sets as runs, see SetLedger).
   */
  keepSegments?: boolean;
}

export class EnvelopeWalker {
  /** Findings for segments outside any interchange (impossible when fed by the tokenizer, which starts at an ISA). */
  readonly orphans: X12Finding[] = [];
  private ic?: X12Interchange;
  private group?: X12Group;
  private open?: OpenSet;
  /** The open group's sets (GE01, ST02 repeats, the 997), and whether its GS08 release uses YYMMDD dates. */
  private ledger = new SetLedger();
  private groupLegacyDates = false;
  private ended?: X12Interchange;
  /** Sender/ISA13 pairs seen in this stream: a repeat is a duplicate interchange (TA1 025). */
  private seenIsa = new Set<string>();
  private strayAt = -2;
  private firstAfterIsa = false;
  private last?: Segment;
  private finished = false;

  constructor(
    private readonly handlers: EnvelopeHandlers = {},
    private readonly options: EnvelopeWalkerOptions = {},
  ) {}

  push(seg: Segment): void {
    if (this.finished) throw new Error('EnvelopeWalker: push after end');
    this.last = seg;
    if (seg.tag === 'ISA') {
      this.closeAll(seg);
      this.flushEnded();
      return this.openInterchange(seg);
    }
    if (this.firstAfterIsa && this.ic) add(this.ic.findings, ...checkMissingIsa16(seg));
    this.firstAfterIsa = false;
    if (!this.ic) return this.stray(seg, this.ended?.findings ?? this.orphans, '022', `${seg.tag} after the interchange trailer`);
    if (this.open) return this.inSet(seg, this.open);
    if (this.group) return this.inGroup(seg, this.group);
    this.inInterchange(seg, this.ic);
  }

  /** Closes whatever is still open (reporting the missing trailers) and reports the last interchange. */
  end(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.last) this.closeAll(this.last, 'the end of the data');
    this.flushEnded();
  }

  private inInterchange(seg: Segment, ic: X12Interchange): void {
    switch (seg.tag) {
      case 'GS':
        return this.openGroup(seg, ic);
      case 'IEA':
        return this.closeInterchange(seg);
      case 'TA1':
      case 'ISB':
      case 'ISE':
        // Legal between ISA and IEA; a TA1 after a GE (seen in the wild) is tolerated rather than lost.
        if (seg.tag === 'TA1') ic.ta1.push(seg);
        return add(ic.findings, ...checkServiceSegment(seg));
      case 'GE':
        return this.stray(seg, ic.findings, '022', 'GE without a GS');
      default:
        return this.stray(seg, ic.findings, '024', `${seg.tag} outside a functional group`);
    }
  }

  private inGroup(seg: Segment, group: X12Group): void {
    switch (seg.tag) {
      case 'ST':
        return this.openSet(seg, group);
      case 'GE':
        return this.closeGroup(seg);
      case 'GS':
        this.closeGroup(undefined, seg);
        return this.openGroup(seg, this.ic!);
      case 'IEA':
        this.closeGroup(undefined, seg);
        return this.closeInterchange(seg);
      default:
        if (seg.tag === 'TA1') this.ic!.ta1.push(seg);
        return add(group.findings, finding('segment', SEGMENT_ID.test(seg.tag) ? '2' : '1', `${seg.tag} between transaction sets (outside ST/SE)`, seg));
    }
  }

  private inSet(seg: Segment, o: OpenSet): void {
    switch (seg.tag) {
      case 'SE':
        return this.closeSet(seg);
      case 'ST':
        this.closeSet(undefined, seg);
        return this.openSet(seg, this.group!);
      case 'GE':
      case 'GS':
      case 'IEA':
        this.closeSet(undefined, seg);
        return this.inGroup(seg, this.group!);
      default:
        return o.segment(seg, this.ic!.ta1);
    }
  }

  /** Consecutive stray segments share one finding (the first one's position): the run is one problem. */
  private stray(seg: Segment, into: X12Finding[], code: Ta1NoteCode, detail: string): void {
    if (seg.index !== this.strayAt + 1) add(into, finding('interchange', code, detail, seg));
    this.strayAt = seg.index;
  }

  private flushEnded(): void {
    const ic = this.ended;
    this.ended = undefined;
    if (ic) this.handlers.onInterchangeEnd?.(ic);
  }

  private closeAll(at: Segment, where = `the ${at.tag} at segment ${at.index + 1}`): void {
    if (this.open) this.closeSet(undefined, at, where);
    if (this.group) this.closeGroup(undefined, at, where);
    if (this.ic) this.closeInterchange(undefined, at, where);
  }

  private openInterchange(isa: Segment): void {
    const e = isa.elements;
    const ic: X12Interchange = {
      senderQualifier: trimPad(e[5]),
      senderId: trimPad(e[6]),
      receiverQualifier: trimPad(e[7]),
      receiverId: trimPad(e[8]),
      date: e[9] ?? '',
      time: e[10] ?? '',
      version: e[12] ?? '',
      controlNumber: e[13] ?? '',
      ackRequested: e[14] === '1',
      usage: e[15] ?? '',
      delimiters: isa.delimiters,
      groups: [],
      ta1: [],
      findings: [],
      header: isa,
    };
    this.ic = ic;
    this.firstAfterIsa = true;
    add(ic.findings, ...checkIsa(isa));
    const key = `${ic.senderQualifier}/${ic.senderId}/${ic.controlNumber}`;
    if (this.seenIsa.has(key)) add(ic.findings, finding('interchange', '025', `ISA13 ${ic.controlNumber} from ${ic.senderId} repeats an earlier interchange in this stream`, isa, { element: 13 }));
    this.seenIsa.add(key);
  }

  private closeInterchange(iea?: Segment, at?: Segment, where = `the ${at?.tag} at segment ${(at?.index ?? 0) + 1}`): void {
    const ic = this.ic!;
    this.ic = undefined;
    if (iea) {
      ic.trailer = iea;
      add(ic.findings, ...checkIea(iea, ic));
      // Reported once the next segment shows whether anything illegal trails the IEA.
      this.ended = ic;
      return;
    }
    add(ic.findings, finding('interchange', '023', `no IEA for ISA13 "${ic.controlNumber}" before ${where}`, at!));
    this.handlers.onInterchangeEnd?.(ic);
  }

  private openGroup(gs: Segment, ic: X12Interchange): void {
    const e = gs.elements;
    const ledger = new SetLedger(this.options.keepSegments === true);
    const group: X12Group = {
      functionalId: e[1] ?? '',
      senderCode: e[2] ?? '',
      receiverCode: e[3] ?? '',
      date: e[4] ?? '',
      time: e[5] ?? '',
      controlNumber: e[6] ?? '',
      agency: e[7] ?? '',
      version: e[8] ?? '',
      get sets() {
        return ledger.list();
      },
      get setCount() {
        return ledger.count;
      },
      findings: [],
      header: gs,
    };
    ic.groups.push(group);
    this.group = group;
    this.ledger = ledger;
    this.groupLegacyDates = legacyDates(group.version);
    checkGs(gs, group, ic);
  }

  private closeGroup(ge?: Segment, at?: Segment, where = `the ${at?.tag} at segment ${(at?.index ?? 0) + 1}`): void {
    const group = this.group!;
    this.group = undefined;
    if (ge) {
      group.trailer = ge;
      add(group.findings, ...checkGe(ge, group));
    } else {
      add(group.findings, finding('group', '3', `no GE for GS06 "${group.controlNumber}" before ${where}`, at!));
    }
    this.handlers.onGroupEnd?.(group, this.ic!);
  }

  private openSet(st: Segment, group: X12Group): void {
    const e = st.elements;
    const set: X12TransactionSet = { id: e[1] ?? '', controlNumber: e[2] ?? '', implementationRef: e[3] || undefined, segments: [st], findings: [], accepted: false };
    // hasOwn: an ST01 such as "constructor" must not find Object.prototype's members.
    const spec = Object.hasOwn(SET_SPECS, set.id) ? SET_SPECS[set.id] : undefined;
    this.open = new OpenSet(set, spec, { delimiters: st.delimiters, legacyDates: this.groupLegacyDates });
    add(set.findings, ...checkSt(st, set, group, this.ledger));
  }

  private closeSet(se?: Segment, at?: Segment, where = `the ${at?.tag} at segment ${(at?.index ?? 0) + 1}`): void {
    const o = this.open!;
    this.open = undefined;
    const { set } = o;
    const end = se ?? at!;
    if (se) {
      set.segments.push(se);
      add(set.findings, ...checkSe(se, set, ++o.count));
    } else {
      add(set.findings, finding('set', '2', `no SE for ST02 "${set.controlNumber}" before ${where}`, end));
    }
    o.checkMandatory(end);
    set.accepted = set.findings.length === 0;
    this.ledger.add(set);
    this.handlers.onSet?.(set, this.group!, this.ic!);
    if (!this.options.keepSegments) set.segments = [];
  }
}

/** Walks a whole message and keeps everything (tests, small messages). Tokenizer errors (not X12 at all) propagate. */
export function walk(text: string): X12Interchange[] {
  const out: X12Interchange[] = [];
  const walker = new EnvelopeWalker({ onInterchangeEnd: (ic) => out.push(ic) }, { keepSegments: true });
  const tokenizer = new X12Tokenizer((s) => walker.push(s));
  tokenizer.write(text);
  tokenizer.end();
  walker.end();
  return out;
}
