import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { X12SyntaxError, X12Tokenizer, tokenize, type Segment } from './tokenizer.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(md)$/i.test(f) ? [] : [p];
  });
}
const SAMPLES = files('test/fixtures/x12');

function chunked(text: string, size: number): Segment[] | string {
  const out: Segment[] = [];
  const t = new X12Tokenizer((s) => out.push(s));
  try {
    for (let i = 0; i < text.length; i += size) t.write(text.slice(i, i + size));
    t.end();
  } catch (e) {
    return (e as X12SyntaxError).code ?? String(e);
  }
  return out;
}

describe('X12 tokenizer', () => {
  it.each(SAMPLES)('gives the same segments whatever the chunk size: %s', (file) => {
    const text = readFileSync(file, 'utf8');
    const whole = chunked(text, text.length || 1);
    const shape = (r: Segment[] | string) => (typeof r === 'string' ? r : r.map((s) => s.elements.join('|')));
    for (const size of [1, 2, 3, 7, 64, 113, 4096]) expect(shape(chunked(text, size))).toEqual(shape(whole));
  });

  it('reads delimiters from the ISA, whatever they are, with any line layout', () => {
    const isa = (e: string, c: string) =>
      ['ISA', '00', '          ', '00', '          ', 'ZZ', 'SENDER         ', 'ZZ', 'RECEIVER       ', '261127', '1200', '^', '00501', '000000001', '0', 'P', c].join(e);
    for (const [e, c, t, nl] of [['*', '>', '~', ''], ['*', ':', '~', '\r\n'], ['|', '^', '\n', ''], ['~', '`', '*', '\n'], ['!', '+', '\r', '\n']]) {
      const text = `\ufeff\n  ${isa(e, c)}${t}${nl}GS${e}IN${e}A${e}B${t}${nl}  IEA${e}1${e}000000001${t}${nl}`;
      const segs = tokenize(text);
      expect(segs.map((s) => s.tag)).toEqual(['ISA', 'GS', 'IEA']);
      expect(segs[0].delimiters).toMatchObject({ element: e, component: c, segment: t });
      expect(segs[0].elements[16]).toBe(c);
      expect(segs[2].elements).toEqual(['IEA', '1', '000000001']);
    }
  });

  it('cuts elements exactly as String#split would, odd segments included', () => {
    const isa = 'ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261127*1200*U*00401*000000001*0*P*>~';
    const body = ['GS*SH*A*B*20261127*1200*1*X*004010', 'ST*856*0001', 'X**a1*Zz9**', '*', 'LIN*1*UP*012345678905*VP*ÄÖ-1*', 'n1*é*ABC*ABCD*1234', 'SE*5*0001'];
    const segs = tokenize(`${isa}${body.join('~')}~~ ~IEA*1*000000001~`);
    const expected = [isa.slice(0, -1), ...body, ' ', 'IEA*1*000000001'].filter((t) => t.trim() !== '').map((t) => t.trim().split('*'));
    expect(segs.map((s) => s.elements)).toEqual(expected);
    expect(segs.map((s) => s.tag)).toEqual(['ISA', 'GS', 'ST', 'X', '', 'LIN', 'n1', 'SE', 'IEA']);
  });

  it('reads interchanges with other delimiters, line layouts and segments across chunk boundaries the same at any chunk size', () => {
    const isa = (e: string, c: string) =>
      ['ISA', '00', '          ', '00', '          ', 'ZZ', 'SENDER         ', 'ZZ', 'RECEIVER       ', '261127', '1200', '^', '00501', '000000001', '0', 'P', c].join(e);
    const ic = (e: string, c: string, t: string, nl: string) =>
      [isa(e, c), `GS${e}IN${e}A${e}B`, `ST${e}810${e}0001`, `BIG${e}20261127${e}INV1${c}X`, `SE${e}3${e}0001`, `GE${e}1${e}1`, `IEA${e}1${e}000000001`].join(`${t}${nl}`) + `${t}${nl}`;
    const text = `${ic('*', '>', '~', '')}${ic('|', '^', '\n', '')}${ic('!', '+', '~', '\r\n')}  ${ic('*', ':', '~', '\n')}`;
    const whole = chunked(text, text.length);
    const shape = (r: Segment[] | string) => (typeof r === 'string' ? r : r.map((s) => [s.tag, s.offset, s.elements.join('|'), s.delimiters.element, s.delimiters.segment]));
    expect(typeof whole === 'string' ? whole : whole.map((s) => s.tag).join(',')).toBe(Array(4).fill('ISA,GS,ST,BIG,SE,GE,IEA').join(','));
    for (let size = 1; size <= 60; size++) expect(shape(chunked(text, size))).toEqual(shape(whole));
  });

  it('keeps a final segment that lacks its terminator, and flags it', () => {
    const segs = tokenize(readFileSync('test/fixtures/x12/olmelabs-ediengine/940.OK.edi', 'utf8'));
    expect(segs[segs.length - 1]).toMatchObject({ tag: 'IEA', unterminated: true });
  });

  it.each([
    ['', 'EMPTY'],
    ['   \n  ', 'EMPTY'],
    ['hello world, not EDI', 'NOT_X12'],
    ['\u0000\u0001binary', 'BINARY'],
    ['ISA*00*', 'BAD_ISA'],
    ['ISAA00', 'BAD_ISA'],
  ])('refuses %j with %s', (text, code) => {
    expect(() => tokenize(text)).toThrow(expect.objectContaining({ code }));
  });
});
