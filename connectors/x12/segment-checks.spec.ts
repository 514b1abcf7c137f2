import { checkSegment, isValidDate, isValidTime } from './segment-checks.js';
import type { ElementRule, ElementType, SegmentRule } from './set-specs.js';
import type { Delimiters, Segment } from './tokenizer.js';

/**
 * The value checks judge characters one by one instead of with regular expressions and Date objects (they
 * run on most segments of every file). These tests hold them to the straightforward definitions they
 * replaced, on every short string over an alphabet of the characters that matter, and on every day of
 * the years where calendars go wrong.
 */
const D: Delimiters = { element: '*', component: '>', segment: '~', repetition: '^' };

// The definitions as first written (regular expressions, Date.UTC), kept here as the reference.
function refDate(v: string): boolean {
  if (!/^(\d{6}|\d{8})$/.test(v)) return false;
  const year = v.length === 8 ? Number(v.slice(0, 4)) : 2000 + Number(v.slice(0, 2));
  const month = Number(v.slice(-4, -2));
  const day = Number(v.slice(-2));
  const d = new Date(Date.UTC(year, month - 1, day));
  return month >= 1 && month <= 12 && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

function refTime(v: string): boolean {
  const m = /^(\d\d)(\d\d)(?:(\d\d)(\d{1,2})?)?$/.exec(v);
  return !!m && Number(m[1]) < 24 && Number(m[2]) < 60 && (m[3] === undefined || Number(m[3]) < 60);
}

function refCode(v: string, r: ElementRule, legacyDates: boolean): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(v) || v.includes(D.component)) return '6';
  let len = v.length;
  let { min, max } = r;
  if (r.type === 'DT' && max === 8 && legacyDates) min = max = 6;
  if (r.type === 'N0' || r.type === 'N2' || r.type === 'R') {
    if (!(r.type === 'R' ? /^-?(\d+\.?\d*|\.\d+)(E-?\d+)?$/ : /^-?\d+$/).test(v)) return '6';
    if (v.charCodeAt(0) === 45) len--;
    if (v.includes('.')) len--;
    const e = v.indexOf('E');
    if (e >= 0) len -= v.length - e;
  }
  if (r.type === 'DT' && !refDate(v)) return '8';
  if (r.type === 'TM' && !refTime(v)) return '9';
  if (len < min) return '4';
  if (len > max) return '5';
  if (r.codes && !r.codes.has(v)) return '7';
  return undefined;
}

const segment = (elements: string[]): Segment => ({ tag: elements[0], elements, index: 0, offset: 0, delimiters: D });
const rule = (r: Partial<ElementRule> & { type: ElementType }): SegmentRule => ({
  elements: [{ min: 1, max: 8, mandatory: false, repeat: 1, ...r }],
  notes: [],
  syntax: [],
});

function* strings(alphabet: string, maxLength: number): Generator<string> {
  let level = [''];
  for (let n = 1; n <= maxLength; n++) {
    const next: string[] = [];
    for (const s of level) for (const c of alphabet) next.push(s + c);
    yield* next;
    level = next;
  }
}

describe('segment checks: values against their reference definitions', () => {
  it.each(['R', 'N0', 'N2', 'DT', 'TM', 'AN', 'ID'] as ElementType[])('%s: the same code for every short string', (type) => {
    const rules = [rule({ type, min: 1, max: 3 }), rule({ type, min: 2, max: 8 }), rule({ type, min: 8, max: 8, codes: new Set(['20240229', '1.5']) })];
    let compared = 0;
    // Decimals need five characters for every shape ("-1.E9"); four cover the other types.
    for (const v of strings('019-.E A>\u0001', type === 'R' ? 5 : 4)) {
      for (const r of rules) {
        for (const legacy of [false, true]) {
          const got = checkSegment(segment(['ZZ', v]), r, { delimiters: D, legacyDates: legacy })[0]?.code;
          const want = refCode(v, r.elements[0]!, legacy);
          if (got !== want) throw new Error(`${type} "${v}" min ${r.elements[0]!.min}: got ${got}, want ${want}`);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(50_000);
  });

  it('dates: every day code of the years where calendars go wrong, in both lengths', () => {
    const years = ['0000', '0004', '0099', '0100', '1900', '1996', '2000', '2023', '2024', '2100', '2400', '9999'];
    const seen = { valid: 0, invalid: 0 };
    for (const y of [...years, ...['00', '49', '50', '96', '99']]) {
      for (let m = 0; m <= 13; m++) {
        for (let d = 0; d <= 32; d++) {
          const v = `${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`;
          expect([v, isValidDate(v)]).toEqual([v, refDate(v)]);
          seen[refDate(v) ? 'valid' : 'invalid']++;
        }
      }
    }
    expect(seen.valid).toBeGreaterThan(5000);
    expect(isValidDate('20240229')).toBe(true);
    expect(isValidDate('20230229')).toBe(false);
    expect(isValidDate('19000229')).toBe(false);
  });

  it('times: every HHMM and some seconds and hundredths', () => {
    for (let h = 0; h <= 25; h++) {
      for (let m = 0; m <= 61; m++) {
        const hhmm = `${String(h).padStart(2, '0')}${String(m).padStart(2, '0')}`;
        for (const v of [hhmm, `${hhmm}59`, `${hhmm}60`, `${hhmm}305`, `${hhmm}3099`, `${hhmm}30999`, `${hhmm}3`]) expect([v, isValidTime(v)]).toEqual([v, refTime(v)]);
      }
    }
  });

  it('a clean segment returns the shared empty list; a bad one lists its problems in element order', () => {
    const r: SegmentRule = { elements: [{ type: 'N0', min: 1, max: 2, mandatory: true, repeat: 1 }, { type: 'DT', min: 8, max: 8, mandatory: false, repeat: 1 }], notes: ['P0102'], syntax: [{ note: 'P0102', kind: 'P', positions: [1, 2] }] };
    const clean = checkSegment(segment(['ZZ', '12', '20240229']), r, { delimiters: D, legacyDates: false });
    expect(clean).toEqual([]);
    expect(Object.isFrozen(clean)).toBe(true);
    const bad = checkSegment(segment(['ZZ', '123', '20230229']), r, { delimiters: D, legacyDates: false });
    expect(bad.map((p) => [p.element, p.code])).toEqual([[1, '5'], [2, '8']]);
    const unpaired = checkSegment(segment(['ZZ', '12']), r, { delimiters: D, legacyDates: false });
    expect(unpaired.map((p) => [p.element, p.code, p.message])).toEqual([[2, '2', 'ZZ02: required by syntax note P0102']]);
  });
});
