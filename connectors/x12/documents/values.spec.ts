import type { Delimiters, Segment } from '../tokenizer.js';
import { code, decimal, el, isoDate, key, trimmed, upper } from './values.js';

/**
 * The readers run on nearly every element of every document, so they test characters one by one instead
 * of calling regular expressions, trim() and Date. Here they are held to the definitions they replaced, on
 * every short string over an alphabet of the characters that matter.
 */
const ref = {
  key: (v: string | undefined) => {
    if (!v) return undefined;
    const t = v.trim();
    return t.length > 0 && t.length <= 128 && /[\p{L}\p{N}]/u.test(t) ? t : undefined;
  },
  code: (v: string | undefined) => (v && /^[A-Za-z0-9]{1,3}$/.test(v) ? v : undefined),
  decimal: (v: string | undefined) => {
    if (!v || !/^-?(\d+(\.\d*)?|\.\d+)$/.test(v)) return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  },
  isoDate: (v: string | undefined) => {
    if (!v) return undefined;
    const s = v.trim();
    let y: number;
    let rest: string;
    if (/^\d{8}$/.test(s)) [y, rest] = [Number(s.slice(0, 4)), s.slice(4)];
    else if (/^\d{6}$/.test(s)) [y, rest] = [Number(s.slice(0, 2)) < 50 ? 2000 + Number(s.slice(0, 2)) : 1900 + Number(s.slice(0, 2)), s.slice(2)];
    else return undefined;
    const m = Number(rest.slice(0, 2));
    const d = Number(rest.slice(2, 4));
    if (y < 1000 || m < 1 || m > 12 || d < 1) return undefined;
    const t = new Date(Date.UTC(y, m - 1, d));
    if (t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) return undefined;
    return `${y}-${rest.slice(0, 2)}-${rest.slice(2, 4)}`;
  },
  el: (v: string, c: string) => {
    if (!v) return undefined;
    const at = c ? v.indexOf(c) : -1;
    return (at >= 0 ? v.slice(0, at) : v).trim() || undefined;
  },
};

function* strings(alphabet: string, maxLength: number): Generator<string> {
  let level = [''];
  yield '';
  for (let n = 1; n <= maxLength; n++) {
    level = level.flatMap((s) => [...alphabet].map((c) => s + c));
    yield* level;
  }
}

const D: Delimiters = { element: '*', component: '>', segment: '~', repetition: '^' };
const seg = (v: string, d = D): Segment => ({ tag: 'ZZ', elements: ['ZZ', v], index: 0, offset: 0, delimiters: d });

describe('document value readers against their reference definitions', () => {
  it('key, code, decimal, el, trimmed and upper agree on every short string', () => {
    const wrong: string[] = [];
    let n = 0;
    for (const v of strings('0a-. >\u00a0é\u0660E', 4)) {
      n++;
      if (key(v) !== ref.key(v)) wrong.push(`key ${JSON.stringify(v)}`);
      if (code(v) !== ref.code(v)) wrong.push(`code ${JSON.stringify(v)}`);
      if (decimal(v) !== ref.decimal(v)) wrong.push(`decimal ${JSON.stringify(v)}`);
      if (trimmed(v) !== v.trim()) wrong.push(`trimmed ${JSON.stringify(v)}`);
      if (upper(v) !== v.toUpperCase()) wrong.push(`upper ${JSON.stringify(v)}`);
      for (const d of [D, { ...D, component: '' }, { ...D, component: '.>' }]) {
        if (el(seg(v, d), 1) !== ref.el(v, d.component)) wrong.push(`el ${JSON.stringify(v)} component ${JSON.stringify(d.component)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(n).toBeGreaterThan(10_000);
  });

  it('isoDate agrees on every day code of the years where calendars go wrong, padded or not', () => {
    const wrong: string[] = [];
    for (const y of ['0999', '1000', '1900', '1996', '2000', '2023', '2024', '2100', '9999', '00', '49', '50', '96', '99']) {
      for (let m = 0; m <= 13; m++) {
        for (let d = 0; d <= 32; d++) {
          const v = `${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`;
          for (const s of [v, ` ${v} `, `${v}x`]) if (isoDate(s) !== ref.isoDate(s)) wrong.push(s);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect([isoDate('20240229'), isoDate('960229'), isoDate('19000229'), isoDate('09991231')]).toEqual(['2024-02-29', '1996-02-29', undefined, undefined]);
  });
});
