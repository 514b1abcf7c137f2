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

const isIdChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
/** Segment IDs seen so far, by their character codes; bounded, since a garbage file can invent IDs without end. */
const TAGS = new Map<number, string>();
const MAX_TAGS = 4096;

/**
 * The segment ID of a segment's first element. A file repeats a few dozen IDs millions of times and the walker
 * and document builders compare each segment's tag with literals many times over. Each well-formed ID (2-3 of
 * A-Z, 0-9) is therefore kept once, as an internalized string (a property name, like the literals it is
 * compared with), so those comparisons are decided by identity instead of by reading characters.
 */
function tagOf(raw: string): string {
  const n = raw.length;
  if ((n === 2 || n === 3) && isIdChar(raw.charCodeAt(0)) && isIdChar(raw.charCodeAt(1)) && (n === 2 || isIdChar(raw.charCodeAt(2)))) {
    const k = (raw.charCodeAt(0) << 16) | (raw.charCodeAt(1) << 8) | (n === 3 ? raw.charCodeAt(2) : 0);
    let tag = TAGS.get(k);
    if (tag === undefined) {
      tag = Object.keys({ [raw]: 0 })[0];
      if (TAGS.size < MAX_TAGS) TAGS.set(k, tag);
    }
    return tag;
  }
  return raw.trim();
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
    this.buf += chunk;
    this.drain(false);
  }

  end(): void {
    this.ended = true;
    this.drain(true);
    if (!this.started || (this.index === 0 && this.buf.trim() === '')) throw new X12SyntaxError('the message is empty', 0, 'EMPTY');
  }

  private drain(final: boolean): void {
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
      let pos = 0;
      let redetect = false;
      for (let cut = buf.indexOf(term); cut >= 0; cut = buf.indexOf(term, pos)) {
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
    const d = this.delims!;
    // With a line-feed terminator, CRLF files leave a CR at the end of each segment.
    if (d.segment === '\n' && text.endsWith('\r')) text = text.slice(0, -1);
    const elements = text.split(d.element);
    const seg: Segment = { tag: tagOf(elements[0]), elements, index: this.index++, offset, delimiters: d };
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
