import { readFileSync } from 'node:fs';
import { EnvelopeWalker, walk } from './envelope.js';
import { MAX_FINDINGS } from './envelope-checks.js';
import type { X12Finding, X12Interchange } from './model.js';
import { X12SyntaxError, X12Tokenizer } from './tokenizer.js';

/** Builds a message from its parts; every default is correct, so a test changes only what it is about. */
const ISA = ['00', ' '.repeat(10), '00', ' '.repeat(10), 'ZZ', 'PARTNER        ', 'ZZ', 'HUB            ', '240305', '1407', 'U', '00401', '000000101', '0', 'P', '>'];
const isa = (over: Record<number, string> = {}) => `ISA*${ISA.map((v, i) => over[i + 1] ?? v).join('*')}`;
const po = (st02 = '0001', body = ['BEG*00*SA*PO123**20240305', 'PO1*1*10*EA*2.5**VP*SKU1', 'CTT*1']) => [`ST*850*${st02}`, ...body, `SE*${body.length + 2}*${st02}`];
interface Parts {
  isa?: Record<number, string>;
  gs?: string;
  sets?: string[][];
  ge?: string | null;
  iea?: string | null;
  term?: string;
}
function message(p: Parts = {}): string {
  const sets = p.sets ?? [po()];
  const lines = [isa(p.isa), p.gs ?? 'GS*PO*PARTNER*HUB*20240305*1407*1*X*004010', ...sets.flat()];
  if (p.ge !== null) lines.push(p.ge ?? `GE*${sets.length}*1`);
  if (p.iea !== null) lines.push(p.iea ?? 'IEA*1*000000101');
  const term = p.term ?? '~';
  return lines.join(term) + term;
}

const LABEL = { interchange: 'TA1', group: 'AK9', set: 'AK5', segment: 'AK3', element: 'AK4' } as const;
const findings = (ics: X12Interchange[]): X12Finding[] =>
  ics.flatMap((ic) => [...ic.findings, ...ic.groups.flatMap((g) => [...g.findings, ...g.sets.flatMap((s) => s.findings)])]);
const codes = (text: string) => [...new Set(findings(walk(text)).map((f) => `${LABEL[f.level]} ${f.code}`))].sort();

describe('EnvelopeWalker: structure and streaming', () => {
  it('fills the model from a valid 850 and finds nothing', () => {
    const [ic] = walk(message({ sets: [po('0001'), po('0002')], ge: 'GE*2*1' }));
    expect(findings([ic])).toEqual([]);
    expect(ic).toMatchObject({ senderQualifier: 'ZZ', senderId: 'PARTNER', receiverId: 'HUB', controlNumber: '000000101', version: '00401', usage: 'P', ackRequested: false });
    expect(ic.groups[0]).toMatchObject({ functionalId: 'PO', senderCode: 'PARTNER', receiverCode: 'HUB', controlNumber: '1', version: '004010' });
    expect(ic.groups[0].sets.map((s) => [s.id, s.controlNumber, s.accepted, s.segments.length])).toEqual([
      ['850', '0001', true, 5],
      ['850', '0002', true, 5],
    ]);
  });

  it('reports each set, then its group, then the interchange, and drops set segments after onSet', () => {
    const events: string[] = [];
    const walker = new EnvelopeWalker({
      onSet: (set) => events.push(`set ${set.controlNumber} ${set.segments.length}`),
      onGroupEnd: (g) => events.push(`group ${g.controlNumber} [${g.sets.map((s) => s.segments.length)}]`),
      onInterchangeEnd: (ic) => events.push(`interchange ${ic.controlNumber}`),
    });
    const tokenizer = new X12Tokenizer((s) => walker.push(s));
    const text = message({ sets: [po('0001'), po('0002')], ge: 'GE*2*1' });
    // One character at a time: the tokenizer and the walker must not care about chunk boundaries.
    for (const c of text) tokenizer.write(c);
    tokenizer.end();
    // The IEA alone does not finish the interchange: what follows it could still be stray data.
    expect(events).toEqual(['set 0001 5', 'set 0002 5', 'group 1 [0,0]']);
    walker.end();
    expect(events).toEqual(['set 0001 5', 'set 0002 5', 'group 1 [0,0]', 'interchange 000000101']);
  });

  it('gives the same result for any chunking of a real file', () => {
    const text = readFileSync('test/fixtures/x12/azoner-pyx12/mult_isa.txt', 'utf8');
    const whole = JSON.stringify(walk(text).map((ic) => [ic.controlNumber, ic.groups.map((g) => g.sets.map((s) => s.controlNumber))]));
    for (const size of [1, 7, 64, 1000]) {
      const out: X12Interchange[] = [];
      const walker = new EnvelopeWalker({ onInterchangeEnd: (ic) => out.push(ic) });
      const tokenizer = new X12Tokenizer((s) => walker.push(s));
      for (let i = 0; i < text.length; i += size) tokenizer.write(text.slice(i, i + size));
      tokenizer.end();
      walker.end();
      expect(JSON.stringify(out.map((ic) => [ic.controlNumber, ic.groups.map((g) => g.sets.map((s) => s.controlNumber))]))).toBe(whole);
    }
  });

  it('collects TA1 segments of an interchange, wherever they stand', () => {
    const [ic] = walk([isa(), 'TA1*000000050*240301*1200*A*000', 'IEA*0*000000101'].join('~') + '~');
    expect(ic.ta1.map((s) => s.elements[1])).toEqual(['000000050']);
    expect(findings([ic])).toEqual([]);
    const [after] = walk(message({ iea: 'TA1*000000050*240301*1200*R*001~IEA*1*000000101' }));
    expect(after.ta1).toHaveLength(1);
    expect(findings([after])).toEqual([]);
  });

  it('does not judge the content of sets it does not support (that is the acknowledgment: AK5 1)', () => {
    const [ic] = walk(message({ sets: [['ST*123*0001', 'XYZ*1*2', 'BEG', 'SE*4*0001']] }));
    expect(findings([ic])).toEqual([]);
    expect(ic.groups[0].sets[0].accepted).toBe(true);
  });

  it('never throws on damaged content: only "not X12 at all" is the tokenizer error', () => {
    const text = readFileSync('test/fixtures/x12/olmelabs-ediengine/AckTest.edi', 'utf8');
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const damaged: string[] = [];
    for (let i = 0; i < text.length; i += 5) damaged.push(text.slice(0, i));
    for (let n = 0; n < 300; n++) {
      const chars = [...text];
      for (let k = 0; k < 3; k++) chars[Math.floor(random() * chars.length)] = '*~\n>XS'[Math.floor(random() * 6)];
      damaged.push(chars.join(''));
    }
    for (const d of damaged) {
      try {
        walk(d);
      } catch (e) {
        expect(e).toBeInstanceOf(X12SyntaxError);
      }
    }
  });

  it(`caps findings per container at ${MAX_FINDINGS}`, () => {
    const junk = Array.from({ length: MAX_FINDINGS + 500 }, (_, i) => `N${i % 10}*X`);
    const [ic] = walk(message({ sets: [[...junk, ...po()]] }));
    expect(ic.groups[0].findings).toHaveLength(MAX_FINDINGS);
  });
});

describe('EnvelopeWalker: interchange (TA1 note codes)', () => {
  it.each([
    [1, '99', '010'],
    [3, '02', '012'],
    [5, 'z!', '005'],
    [6, ' '.repeat(15), '006'],
    [7, '!!', '007'],
    [9, '240230', '014'],
    [10, '2460', '015'],
    [11, '^', '016'],
    [12, '00040', '017'],
    [14, '2', '019'],
    [15, 'X', '020'],
    [16, 'A', '027'],
  ])('ISA%i "%s" → %s', (element, value, code) => {
    const [ic] = walk(message({ isa: { [element]: value } }));
    // Only that field is flagged on the ISA (ISA16 "A" also makes "A" in later data a separator: other findings).
    expect(ic.findings.filter((f) => f.position.tag === 'ISA').map((f) => [f.code, f.position.element])).toEqual([[code, element]]);
  });

  it('ISA13 must be 9 digits (IEA02 repeats it, so it is reported there too)', () => {
    const [ic] = walk(message({ isa: { 13: '00000010A' }, iea: 'IEA*1*00000010A' }));
    expect(ic.findings.map((f) => [f.code, f.position.tag, f.position.element])).toEqual([
      ['018', 'ISA', 13],
      ['018', 'IEA', 2],
    ]);
  });

  it('checks the fixed ISA length and each field width', () => {
    expect(codes(message({ isa: { 2: 'SHORT', 8: 'HUB' } }))).toEqual(['TA1 008', 'TA1 011', 'TA1 022']);
  });

  it('accepts a repetition separator in ISA11 from 00402 on', () => {
    expect(codes(message({ isa: { 11: '^', 12: '00501' } }))).toEqual([]);
  });

  it('compares IEA02 with ISA13 as numbers and reports a non-9-digit IEA02 as 018, a different one as 001', () => {
    expect(codes(message({ iea: 'IEA*1*101' }))).toEqual(['TA1 018']);
    expect(codes(message({ iea: 'IEA*1*000000102' }))).toEqual(['TA1 001']);
  });

  it('checks IEA01 against the number of groups, and reports a missing IEA as a premature end', () => {
    expect(codes(message({ iea: 'IEA*2*000000101' }))).toEqual(['TA1 021']);
    expect(codes(message({ iea: null }))).toEqual(['TA1 023']);
  });

  it('tolerates an unterminated last segment only when the terminator is a line break', () => {
    expect(codes(message({ term: '\n' }).trimEnd())).toEqual([]);
    expect(codes(message().slice(0, -1))).toEqual(['TA1 023']);
  });

  it('reports a run of segments after the IEA once, and a repeated ISA13 from the same sender', () => {
    const [ic] = walk(message() + 'N9*X~N9*Y~');
    expect(ic.findings.map((f) => [f.code, f.position.tag])).toEqual([['022', 'N9']]);
    const [, second] = walk(message() + message());
    expect(second.findings.map((f) => f.code)).toEqual(['025']);
  });

  it('closes what an unexpected ISA leaves open', () => {
    const text = message({ sets: [po().slice(0, 2)], ge: null, iea: null }) + message({ isa: { 13: '000000102' }, iea: 'IEA*1*000000102' });
    const ics = walk(text);
    expect(ics).toHaveLength(2);
    expect(findings([ics[0]]).map((f) => `${LABEL[f.level]} ${f.code}`)).toEqual(['TA1 023', 'AK9 3', 'AK5 2']);
    expect(findings([ics[1]])).toEqual([]);
  });
});

describe('EnvelopeWalker: group (AK9) and set (AK5)', () => {
  it.each([
    ['GE02 differs from GS06', { ge: 'GE*1*2' }, ['AK9 4']],
    ['GE01 is not the number of sets', { ge: 'GE*3*1' }, ['AK9 5']],
    ['GE is missing', { ge: null }, ['AK9 3']],
    ['GS06 is not numeric', { gs: 'GS*PO*PARTNER*HUB*20240305*1407*A1*X*004010', ge: 'GE*1*A1' }, ['AK9 6']],
    ['GS04 is not a date (no AK9 code exists: TA1 024)', { gs: 'GS*PO*PARTNER*HUB*20241305*1407*1*X*004010' }, ['TA1 024']],
    ['SE02 differs from ST02', { sets: [[...po().slice(0, -1), 'SE*5*0002']] }, ['AK5 3']],
    ['SE01 miscounts ST..SE', { sets: [[...po().slice(0, -1), 'SE*4*0001']] }, ['AK5 4']],
    ['ST01 is not a set identifier', { sets: [po().map((s) => s.replace('ST*850', 'ST*85'))] }, ['AK5 6']],
    // An ST01 naming an Object.prototype member once looked up a "spec" there and crashed the walker.
    ['ST01 is an Object.prototype member', { sets: [po().map((s) => s.replace('ST*850', 'ST*constructor'))] }, ['AK5 6']],
    ['ST02 is too short', { sets: [po('001')] }, ['AK5 7']],
    ['ST02 repeats in the group', { sets: [po(), po()], ge: 'GE*2*1' }, ['AK5 23']],
    ['ST03 is too long', { sets: [po().map((s) => s.replace('ST*850*0001', `ST*850*0001*${'X'.repeat(36)}`))] }, ['AK5 19']],
  ] as [string, Parts, string[]][])('%s', (_name, parts, expected) => {
    expect(codes(message(parts))).toEqual(expected);
  });

  it('infers a missing SE from the next ST and keeps walking', () => {
    const [ic] = walk(message({ sets: [po().slice(0, -1), po('0002')], ge: 'GE*2*1' }));
    const [first, second] = ic.groups[0].sets;
    expect(first.findings.map((f) => f.code)).toEqual(['2']);
    expect(second.accepted).toBe(true);
  });

  it('a streamed group keeps clean consecutive sets as runs and gives them back in order with the rest', () => {
    const clean = Array.from({ length: 50 }, (_, i) => po(String(i + 1).padStart(4, '0')));
    const sets = [...clean.slice(0, 20), po('0020'), po('0099', ['BEG*00*SA*PO123**20241305']), ...clean.slice(20)];
    const text = message({ sets, ge: `GE*${sets.length}*1` });
    const streamed: [string, boolean, string[]][][] = [];
    const walker = new EnvelopeWalker({ onGroupEnd: (g) => streamed.push(g.sets.map((s) => [s.controlNumber, s.accepted, s.findings.map((f) => f.code)])) });
    const tokenizer = new X12Tokenizer((s) => walker.push(s));
    tokenizer.write(text);
    tokenizer.end();
    walker.end();
    const whole = walk(text)[0].groups[0].sets.map((s) => [s.controlNumber, s.accepted, s.findings.map((f) => f.code)]);
    expect(streamed).toEqual([whole]);
    expect(whole.slice(19, 23)).toEqual([['0020', true, []], ['0020', false, ['23']], ['0099', false, ['8', '8']], ['0021', true, []]]);
    expect(codes(text)).toEqual(['AK3 8', 'AK4 8', 'AK5 23']);
  });

  it('reads YYMMDD dates in groups of releases before 004010', () => {
    const old = po('0001', ['BEG*00*SA*PO123**240305']);
    expect(codes(message({ sets: [old], gs: 'GS*PO*PARTNER*HUB*240305*1407*1*X*003010' }))).toEqual([]);
    expect(codes(message({ sets: [old] }))).toEqual(['AK3 8', 'AK4 4']);
  });
});

describe('EnvelopeWalker: segments (AK3) and elements (AK4)', () => {
  const one = (body: string[], st01 = '850') => walk(message({ sets: [po('0001', body).map((s) => s.replace('ST*850', `ST*${st01}`))] }))[0].groups[0].sets[0];

  it('numbers set positions from ST = 1 and puts AK3 8 on the segment with element errors', () => {
    const set = one(['BEG*00*SA*PO123**20240305', 'PO1*1*ten*EA']);
    expect(set.findings.map((f) => [f.level, f.code, f.position.tag, f.position.setPosition, f.position.element, f.elementRef, f.badValue])).toEqual([
      ['segment', '8', 'PO1', 3, undefined, undefined, undefined],
      ['element', '6', 'PO1', 3, 2, '330', 'ten'],
    ]);
    expect(set.accepted).toBe(false);
  });

  it.each([
    ['an unrecognized segment ID', ['BEG*00*SA*PO123**20240305', 'beg*1'], '1', 'beg', 3],
    ['a segment before the beginning segment', ['REF*DP*038', 'BEG*00*SA*PO123**20240305'], '2', 'REF', 2],
    ['the beginning segment out of place', ['REF*DP*038', 'BEG*00*SA*PO123**20240305'], '7', 'BEG', 3],
    ['a missing mandatory beginning segment', ['REF*DP*038'], '3', 'BEG', 2],
    ['a beginning segment used twice', ['BEG*00*SA*PO1**20240305', 'BEG*00*SA*PO2**20240305'], '5', 'BEG', 3],
    ['a TA1 inside a set', ['BEG*00*SA*PO123**20240305', 'TA1*000000050*240301*1200*A*000'], '2', 'TA1', 3],
  ])('%s → AK3 %s', (_name, body, code, tag, setPosition) => {
    const f = one(body).findings.find((x) => x.level === 'segment' && x.code === code);
    expect(f?.position).toMatchObject({ tag, setPosition });
  });

  it('knows the mandatory segments of each set and the closed dictionary of the 997/999', () => {
    expect(one(['BIG*20240305*INV1'], '810').findings.map((f) => [f.code, f.position.tag])).toEqual([['3', 'TDS']]);
    expect(one(['BSN*00*SHIP1*20240305*1200'], '856').findings.map((f) => [f.code, f.position.tag])).toEqual([['3', 'HL']]);
    expect(one(['AK1*PO*1', 'IK5*A', 'AK9*A*1*1*1'], '997').findings.map((f) => [f.code, f.position.tag])).toEqual([['2', 'IK5']]);
  });

  it('reports segments between sets on the group', () => {
    const [ic] = walk(message({ sets: [['N9*ZZ*1'], po()], ge: 'GE*1*1' }));
    expect(ic.groups[0].findings.map((f) => [f.level, f.code, f.position.tag])).toEqual([['segment', '2', 'N9']]);
  });

  it.each([
    ['mandatory element missing', 'BEG**SA*PO123**20240305', 1, '1'],
    ['conditional element missing (C0302)', 'PO1*1**EA', 2, '2'],
    ['too many data elements', 'AK2*850*0001*X*Y', 4, '3'],
    ['too short', 'BEG*0*SA*PO123**20240305', 1, '4'],
    ['too long', `BEG*00*SA*${'P'.repeat(23)}**20240305`, 3, '5'],
    ['invalid character', 'PO1*1*1O*EA', 2, '6'],
    ['invalid code value', 'AK5*Q', 1, '7'],
    ['invalid date', 'BEG*00*SA*PO123**20240231', 5, '8'],
    ['invalid time', 'BSN*00*SHIP1*20240305*2460', 4, '9'],
    ['exclusion violated (E0105)', 'B10*PRO1**SCAC*1*BM', 5, '10'],
  ])('%s → AK4 %s', (_name, segment, element, code) => {
    const tag = segment.slice(0, segment.indexOf('*'));
    const begin = { PO1: 'BEG*00*SA*PO123**20240305', AK2: 'AK1*PO*1', AK5: 'AK1*PO*1', BSN: '', B10: '' }[tag];
    const st01 = { AK2: '997', AK5: '997', BSN: '856', B10: '214' }[tag] ?? '850';
    const body = [begin, segment].filter((s): s is string => !!s);
    const found = one(body, st01).findings.filter((f) => f.level === 'element');
    expect(found.map((f) => [f.code, f.position.element])).toContainEqual([code, element]);
  });

  it('checks repetitions (5010) and composite components', () => {
    const rep = walk(message({ isa: { 11: '^', 12: '00501' }, sets: [po('0001', ['BEG*00*SA*PO1^PO2**20240305'])] }));
    expect(findings(rep).map((f) => `${f.level} ${f.code} ${f.position.element ?? ''}`)).toEqual(['segment 8 ', 'element 12 3']);
    const qty = one(['BIA*00*SI*INV1*20240305', 'LIN**BP*SKU1', `QTY*33*5*EA${'>'.repeat(15)}`, 'QTY*33*5*EACH'], '846');
    expect(qty.findings.filter((f) => f.level === 'element').map((f) => [f.code, f.position.element, f.position.component])).toEqual([
      ['13', 3, undefined],
      ['5', 3, 1],
    ]);
  });
});
