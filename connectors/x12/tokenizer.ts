/**
 * Streaming X12 tokenizer. Feed it text in chunks of any size; it emits one segment at a time
 * and keeps only the unfinished tail in memory, so a 200 MB interchange streams in flat memory.
 *
 * Delimiters are read from each ISA by counting its 16 element separators (not by fixed offsets),
 * so a BOM, leading blank lines, NBSP padding or an ISA of the wrong length do not break detection.
 * When the segment terminator is not a line break, CR/LF are layout only and are dropped anywhere
 * (files wrapped at 80 columns break lines inside segments).
 */
export interface Delimiters {
  element: string;
  component: string;
  /** ISA11 when it is a separator (version 00402 and later), else undefined. */
  repetition?: string;
  segment: string;
}

export interface Segment {
  tag: string;
  /** elements[0] is the tag, so elements[n] is the X12 element n (BEG03 = elements[3]). */
  elements: string[];
  /** 0-based ordinal of the segment in the stream. */
  index: number;
  /** Character offset of the segment's first character in the (BOM-stripped) stream. */
  offset: number;
  delimiters: Delimiters;
  /** Set on a last segment that ended without a terminator. */
  unterminated?: boolean;
  /**
   * Whether the segment holds a component separator anywhere. Set by the tokenizer (which reads every
   * character anyway) so value readers can skip looking for one; undefined on segments built elsewhere.
   */
  composite?: boolean;
}

export class X12SyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly code: 'NOT_X12' | 'BAD_ISA' | 'NO_TERMINATOR' | 'EMPTY' | 'BINARY',
  ) {
    super(message);
  }
}

const NEWLINE = /[\r\n]/g;
const LEADING_LAYOUT = /^[\s\u00a0\ufeff]+/;
const LETTER = /[A-Za-z0-9]/;

/** 0-9 → 0-9, A-Z → 10-35, anything else -1: the digits of a short ID-like value in base 36. */
const idDigit = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 90 ? c - 55 : -1);

/**
 * Short values (1 to 3 characters of 0-9 and A-Z) by their base-36 number after an offset per length:
 * 36 + 36² + 36³ = 47,988 slots at most, so the table is bounded whatever a file holds.
 *
 * PERF: such values are most of an X12 file's elements: segment IDs, qualifiers and codes ("UP", "EA", "AC",
 * "S"), small numbers ("1", "33"). Each is kept once, as an internalized string (a property name, like the
 * literals it is compared with and the table keys it is looked up in), and handed out again instead of a new
 * slice. That saves the allocation, and the many `tag === 'XX'` comparisons and code-table lookups downstream
 * are decided by identity instead of by reading characters and hashing.
 */
const ATOM_BASE = [0, 0, 36, 36 + 36 * 36];
// Filled up front: an array grown by far-apart indexes turns into a slow dictionary.
const ATOMS: (string | undefined)[] = new Array<string | undefined>(ATOM_BASE[3] + 36 ** 3).fill(undefined);

/** The kept string for text[from, to) when that is 1 to 3 of 0-9, A-Z; else undefined. */
function atomAt(text: string, from: number, to: number): string | undefined {
  const n = to - from;
  if (n <= 0 || n > 3) return undefined;
  let k = 0;
  for (let i = from; i < to; i++) {
    const v = idDigit(text.charCodeAt(i));
    if (v < 0) return undefined;
    k = k * 36 + v;
  }
  k += ATOM_BASE[n];
  let atom = ATOMS[k];
  if (atom === undefined) atom = ATOMS[k] = Object.keys({ [text.slice(from, to)]: 0 })[0];
  return atom;
}

/** text[from, to), the kept string when it is a short ID-like value. */
function sliceAt(text: string, from: number, to: number): string {
  return atomAt(text, from, to) ?? text.slice(from, to);
}

/** Separator positions of the segment being cut (reused; grown for segments with very many elements). */
let CUTS = new Int32Array(64);
const growCuts = (cuts: Int32Array) => {
  const more = new Int32Array(cuts.length * 2);
  more.set(cuts);
  return more;
};

/** The segment ID of a segment's first element `raw`: the kept string for 2-3 of A-Z, 0-9; anything else trimmed. */
function tagOf(raw: string): string {
  return ((raw.length === 2 || raw.length === 3) && atomAt(raw, 0, raw.length)) || raw.trim();
}

/** Length of the leading layout; printable ASCII first (every real segment) skips the regex. */
function leadingLayout(s: string): number {
  const c = s.charCodeAt(0);
  if (c > 0x20 && c < 0x7f) return 0;
  return s.match(LEADING_LAYOUT)?.[0].length ?? 0;
}

export class X12Tokenizer {
  private buf = '';
  /** Stream offset of buf[0]. */
  private base = 0;
  /** Where the next drain starts reading buf (everything before it is already consumed). */
  private start = 0;
  private index = 0;
  private delims?: Delimiters;
  private stripNewlines = false;
  private started = false;
  private ended = false;

  constructor(private readonly onSegment: (s: Segment) => void) {}

  get delimiters(): Delimiters | undefined {
    return this.delims;
  }

  write(chunk: string): void {
    if (this.ended) throw new Error('write after end');
    if (!this.started) {
      if (chunk.length === 0) return;
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    const term = this.delims?.segment;
    const cut = term === undefined || this.buf === '' ? -1 : chunk.indexOf(term);
    if (cut >= 0) {
      // PERF: the segment cut in two by the chunk boundary is completed and read on its own, then the chunk is read
      // where it is. Appending the chunk to the unfinished tail would make a concatenated string, and reading a
      // concatenated string character by character is about a third slower than reading the chunk itself.
      this.buf += chunk.slice(0, cut + term!.length);
      this.drain(false);
      if (this.buf === '') {
        this.buf = chunk;
        this.base -= cut + term!.length;
        this.start = cut + term!.length;
      } else this.buf += chunk.slice(cut + term!.length);
    } else if (this.buf === '') this.buf = chunk;
    else this.buf += chunk;
    this.drain(false);
  }

  end(): void {
    this.ended = true;
    this.drain(true);
    if (!this.started || (this.index === 0 && this.buf.trim() === '')) throw new X12SyntaxError('the message is empty', 0, 'EMPTY');
  }

  private drain(final: boolean): void {
    let from = this.start;
    this.start = 0;
    for (;;) {
      if (!this.delims) {
        if (!this.detect(final)) return;
      }
      const d = this.delims!;
      const buf = this.buf;
      const term = d.segment;
      // PERF: one scan per buffer instead of two includes() per segment; most files have no line breaks.
      const layout = this.stripNewlines && (buf.includes('\n') || buf.includes('\r'));
      // PERF: walk a position through the buffer instead of re-slicing the buffer after every segment.
      let pos = from;
      from = 0;
      let redetect = false;
      const ec = d.element.charCodeAt(0);
      for (let cut = buf.indexOf(term, pos); cut >= 0; cut = buf.indexOf(term, pos)) {
        // PERF: the usual segment (no layout, starts with a visible character, not an ISA) is split straight out of
        // the buffer, without first slicing the segment's text.
        const c0 = buf.charCodeAt(pos);
        if (!layout && cut > pos && c0 > 0x20 && c0 < 0x7f && (c0 !== 73 || !buf.startsWith('ISA', pos) || cut - pos <= 3 || buf.charCodeAt(pos + 3) === ec || this.index === 0)) {
          this.emitRange(buf, pos, cut, this.base + pos, ec, false);
          pos = cut + term.length;
          continue;
        }
        const raw = buf.slice(pos, cut);
        const text = layout ? this.clean(raw) : raw;
        const lead = leadingLayout(text);
        const body = lead ? text.slice(lead) : text;
        // A following interchange may use other delimiters: detect them again from its ISA.
        if (body.startsWith('ISA') && body.length > 3 && body[3] !== d.element && this.index > 0) {
          const at = pos + raw.indexOf('ISA');
          this.buf = buf.slice(at);
          this.base += at;
          this.delims = undefined;
          redetect = true;
          break;
        }
        if (body.length) this.emit(body, this.base + pos + lead, false);
        pos = cut + term.length;
      }
      if (redetect) continue;
      if (pos) {
        this.buf = buf.slice(pos);
        this.base += pos;
      }
      if (!final) return;
      const rest = this.clean(this.buf);
      const lead = leadingLayout(rest);
      if (rest.length > lead) this.emit(rest.slice(lead), this.base + lead, true);
      this.base += this.buf.length;
      this.buf = '';
      return;
    }
  }

  private clean(s: string): string {
    return this.stripNewlines && (s.includes('\n') || s.includes('\r')) ? s.replace(NEWLINE, '') : s;
  }

  private emit(text: string, offset: number, unterminated: boolean): void {
    this.emitRange(text, 0, text.length, offset, this.delims!.element.charCodeAt(0), unterminated);
  }

  /**
   * Emits text[from, to) as one segment starting at stream offset `offset`. The elements are cut out with a
   * character loop: on segments of a few dozen characters that is about twice as fast as String#split, which
   * pays a runtime call per segment (the element separator is always one character).
   */
  private emitRange(text: string, from: number, to: number, offset: number, ec: number, unterminated: boolean): void {
    const d = this.delims!;
    // With a line-feed terminator, CRLF files leave a CR at the end of each segment.
    if (to > from && text.charCodeAt(to - 1) === 13 && d.segment === '\n') to--;
    // PERF: the separators are found first, so that the element array is allocated once at its size (pushing onto
    // an empty array allocates 17 slots for the usual 4-8 elements, then more for long segments).
    let cuts = CUTS;
    let k = 0;
    const cc = d.component.length === 1 ? d.component.charCodeAt(0) : -1;
    let composite = false;
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      if (c === ec) {
        if (k === cuts.length) cuts = CUTS = growCuts(cuts);
        cuts[k++] = i;
      } else if (c === cc) composite = true;
    }
    const end0 = k > 0 ? cuts[0] : to;
    // The first element is the segment ID; when it is 2-3 of A-Z, 0-9 its kept string is the tag as it is.
    const id = end0 - from === 2 || end0 - from === 3 ? atomAt(text, from, end0) : undefined;
    const elements = new Array<string>(k + 1);
    elements[0] = id ?? sliceAt(text, from, end0);
    const tag = id ?? tagOf(elements[0]);
    for (let j = 1; j < k; j++) elements[j] = sliceAt(text, cuts[j - 1] + 1, cuts[j]);
    if (k > 0) elements[k] = sliceAt(text, cuts[k - 1] + 1, to);
    const seg: Segment = { tag, elements, index: this.index++, offset, delimiters: d, composite: composite || (cc === -1 && d.component.length > 1) };
    if (unterminated) seg.unterminated = true;
    this.onSegment(seg);
  }

  /** Finds an ISA at the head of the buffer and reads the delimiters from it. False: need more input. */
  private detect(final: boolean): boolean {
    const lead = this.buf.match(LEADING_LAYOUT)?.[0].length ?? 0;
    if (lead) {
      this.buf = this.buf.slice(lead);
      this.base += lead;
    }
    if (this.buf.length < 4) {
      if (final && this.buf.length) throw new X12SyntaxError(`not X12: expected an ISA segment, found "${this.buf}"`, this.base, 'NOT_X12');
      return false;
    }
    if (!this.buf.startsWith('ISA')) {
      const sample = this.buf.slice(0, 20);
      // eslint-disable-next-line no-control-regex
      const binary = /[\x00-\x08\x0e-\x1f]/.test(sample);
      throw new X12SyntaxError(
        binary ? 'not X12: the message holds binary data' : `not X12: expected an ISA segment at the start, found "${sample.replace(/\s+/g, ' ')}"`,
        this.base,
        binary ? 'BINARY' : 'NOT_X12',
      );
    }
    const element = this.buf[3];
    if (LETTER.test(element) || element === ' ' || element === '\r' || element === '\n') {
      throw new X12SyntaxError(`invalid ISA: "${element}" cannot be the element separator`, this.base, 'BAD_ISA');
    }
    // Walk the ISA skipping line breaks, counting element separators up to ISA16.
    let seps = 0;
    let i = 3;
    let isa16At = -1;
    for (; i < this.buf.length && i < 400; i++) {
      const c = this.buf[i];
      if (c === element) {
        seps++;
        if (seps === 16) {
          isa16At = i + 1;
          break;
        }
      }
    }
    if (isa16At < 0) {
      if (i >= 400) throw new X12SyntaxError('invalid ISA: fewer than 16 elements before any segment terminator', this.base, 'BAD_ISA');
      if (final) throw new X12SyntaxError('truncated ISA: the message ends inside the interchange header', this.base, 'BAD_ISA');
      return false;
    }
    // ISA16 (component separator) then the terminator; line breaks between them are layout.
    let j = isa16At;
    while (j < this.buf.length && (this.buf[j] === '\r' || this.buf[j] === '\n')) j++;
    const component = this.buf[j];
    let k = j + 1;
    if (k >= this.buf.length) {
      if (final) throw new X12SyntaxError('truncated ISA: no segment terminator after ISA16', this.base, 'BAD_ISA');
      return false;
    }
    let segment = this.buf[k];
    if (segment === '\r' || segment === '\n') {
      // Either the terminator is a line break, or the layout wraps here and the terminator follows.
      let m = k;
      while (m < this.buf.length && /[\r\n \t\u00a0]/.test(this.buf[m])) m++;
      if (m >= this.buf.length && !final) return false;
      const next = this.buf[m];
      if (next === undefined || LETTER.test(next)) {
        segment = this.buf[k];
      } else {
        segment = next;
        k = m;
      }
    } else if (LETTER.test(segment)) {
      throw new X12SyntaxError('no segment terminator: ISA16 is followed directly by the next segment', this.base + k, 'NO_TERMINATOR');
    }
    // Multi-byte terminators (e.g. U+2026) are one UTF-16 unit here, so one character suffices.
    const isa11 = this.isa11(element);
    this.delims = {
      element,
      component,
      segment,
      repetition: isa11 && !LETTER.test(isa11) && isa11 !== ' ' && isa11 !== element && isa11 !== component ? isa11 : undefined,
    };
    this.stripNewlines = segment !== '\n' && segment !== '\r';
    return true;
  }

  private isa11(element: string): string | undefined {
    const parts = this.buf.slice(0, 200).replace(NEWLINE, '').split(element);
    return parts[11]?.length === 1 ? parts[11] : undefined;
  }
}

/** Tokenizes a whole string (tests, small messages). */
export function tokenize(text: string): Segment[] {
  const out: Segment[] = [];
  const t = new X12Tokenizer((s) => out.push(s));
  t.write(text);
  t.end();
  return out;
}
