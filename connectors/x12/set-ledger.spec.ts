import type { X12TransactionSet } from './model.js';
import { SetLedger } from './set-ledger.js';

/**
 * The ledger keeps clean, consecutively numbered sets as runs. Whatever the numbering, it must give back
 * exactly what one record per set gave: the same sets in the same order, and the same answer to "was this
 * ST02 used before in the group".
 */
function set(id: string, controlNumber: string, o: { findings?: number; ref?: string } = {}): X12TransactionSet {
  const findings = Array.from({ length: o.findings ?? 0 }, () => ({ level: 'set' as const, code: '4', message: 'x', position: { segmentIndex: 0, offset: 0 } }));
  return { id, controlNumber, implementationRef: o.ref, segments: [], findings, accepted: findings.length === 0 };
}

/** A deterministic stream of sets: mostly consecutive numbers, with gaps, repeats, other widths and non-numbers. */
function stream(seed: number, n: number): X12TransactionSet[] {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: X12TransactionSet[] = [];
  let next = 1 + Math.floor(rnd() * 50);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    let cn: string;
    if (r < 0.6) cn = String(next++).padStart(4, '0');
    else if (r < 0.7) cn = String((next += 3)).padStart(4, '0');
    else if (r < 0.8) cn = String(Math.floor(rnd() * next)).padStart(rnd() < 0.5 ? 4 : 5, '0');
    else if (r < 0.85) cn = String(next);
    else if (r < 0.9) cn = `A${Math.floor(rnd() * 20)}`;
    else cn = String(next++).padStart(9, '0');
    out.push(set(rnd() < 0.9 ? '856' : '810', cn, { findings: rnd() < 0.1 ? 1 : 0, ref: rnd() < 0.05 ? '005010X' : undefined }));
  }
  return out;
}

const shape = (s: X12TransactionSet) => [s.id, s.controlNumber, s.implementationRef, s.accepted, s.findings.length];

describe('SetLedger', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('gives back every set in order and knows every used ST02 (seed %i)', (seed) => {
    const sets = stream(seed, 3000);
    const ledger = new SetLedger();
    const used = new Set<string>();
    const wrong: string[] = [];
    let repeats = 0;
    for (const s of sets) {
      // Asked before each add, as the walker does when the next ST arrives.
      for (const probe of [s.controlNumber, `0${s.controlNumber}`, String(Number(s.controlNumber) + 1), s.controlNumber.slice(1)]) {
        if (ledger.has(probe) !== used.has(probe)) wrong.push(probe);
      }
      if (used.has(s.controlNumber)) repeats++;
      ledger.add(s);
      used.add(s.controlNumber);
    }
    expect(wrong).toEqual([]);
    expect(repeats).toBeGreaterThan(10);
    expect(ledger.count).toBe(sets.length);
    expect(ledger.list().map(shape)).toEqual(sets.map(shape));
  });

  it('keeps a consecutive clean sequence as one run, and records sets with findings as they are', () => {
    const ledger = new SetLedger();
    for (let i = 1; i <= 100_000; i++) ledger.add(set('856', String(i).padStart(4, '0')));
    const bad = set('856', '100001', { findings: 2 });
    ledger.add(bad);
    // Three runs (ST02 widths 4, 5 and 6) and the record of the set with findings.
    expect((ledger as unknown as { entries: unknown[] }).entries).toHaveLength(4);
    const list = ledger.list();
    expect([list.length, list[0].controlNumber, list[9998].controlNumber, list[99_999].controlNumber]).toEqual([100_001, '0001', '9999', '100000']);
    expect(list[100_000]).toBe(bad);
    expect([ledger.has('0500'), ledger.has('500'), ledger.has('100001'), ledger.has('100002')]).toEqual([true, false, true, false]);
  });

  it('keeps every record as given when asked to (walk() keeps segments)', () => {
    const ledger = new SetLedger(true);
    const sets = [set('850', '0001'), set('850', '0002')];
    for (const s of sets) ledger.add(s);
    expect(ledger.list()).toEqual(sets);
    expect(ledger.list()[1]).toBe(sets[1]);
  });
});
