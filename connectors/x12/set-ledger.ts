import type { X12TransactionSet } from './model.js';

/**
 * What a functional group must remember of its transaction sets once they have been handed over: the
 * count (GE01), each set's ST01/ST02/ST03 and findings in order (one AK2/AK5 per set in the 997/999), and
 * which ST02s were used (a repeated ST02 is AK5 23).
 *
 * Streamed groups can hold hundreds of thousands of sets, and keeping one record per set made memory grow
 * with the file. Clean sets (accepted, no finding) numbered one after the other, as senders number them,
 * are kept as runs instead: "856, ST02 0001 to 7338, no ST03" is one entry whatever the count. Sets with
 * findings, and sets that break the sequence, keep their own record, so memory grows only with what the
 * acknowledgment must spell out. The records are rebuilt, in order, when the acknowledgment asks for them.
 */
interface CleanRun {
  id: string;
  implementationRef: string | undefined;
  /** ST02 width: "0001" and "1" are different control numbers. */
  width: number;
  first: number;
  count: number;
}

type Entry = X12TransactionSet | CleanRun;

const isRun = (e: Entry): e is CleanRun => (e as CleanRun).width !== undefined;

/** The value of an all-digit ST02 short enough to count in a double, or -1. */
function numeric(controlNumber: string): number {
  const n = controlNumber.length;
  if (n === 0 || n > 15) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = controlNumber.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * ST02s seen in one group. Ascending numeric ones are kept as ranges of consecutive values of one width
 * (disjoint and sorted, since each starts above everything before it); any other goes into a set.
 */
class ControlNumbers {
  private readonly ranges: { width: number; first: number; last: number }[] = [];
  private readonly others = new Set<string>();
  private max = -1;

  add(controlNumber: string): void {
    const v = numeric(controlNumber);
    if (v < 0 || v <= this.max) {
      this.others.add(controlNumber);
      return;
    }
    const last = this.ranges.at(-1);
    if (last && last.width === controlNumber.length && last.last + 1 === v) last.last = v;
    else this.ranges.push({ width: controlNumber.length, first: v, last: v });
    this.max = v;
  }

  has(controlNumber: string): boolean {
    if (this.others.has(controlNumber)) return true;
    const v = numeric(controlNumber);
    if (v < 0 || v > this.max) return false;
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.ranges[mid];
      if (v < r.first) hi = mid - 1;
      else if (v > r.last) lo = mid + 1;
      else return r.width === controlNumber.length;
    }
    return false;
  }
}

export class SetLedger {
  private readonly entries: Entry[] = [];
  private readonly used = new ControlNumbers();
  private total = 0;

  /** keepRecords: store every set as given (walk() keeps segments for tests and small messages). */
  constructor(private readonly keepRecords = false) {}

  /** Number of sets in the group so far (GE01). */
  get count(): number {
    return this.total;
  }

  /** Whether an earlier set of the group used this ST02. */
  has(controlNumber: string): boolean {
    return this.used.has(controlNumber);
  }

  /** Records a finished set (its findings final). */
  add(set: X12TransactionSet): void {
    this.total++;
    this.used.add(set.controlNumber);
    const v = !this.keepRecords && set.accepted && set.findings.length === 0 ? numeric(set.controlNumber) : -1;
    if (v < 0) {
      this.entries.push(set);
      return;
    }
    const last = this.entries.at(-1);
    const width = set.controlNumber.length;
    if (last && isRun(last) && last.id === set.id && last.implementationRef === set.implementationRef && last.width === width && last.first + last.count === v) {
      last.count++;
      return;
    }
    this.entries.push({ id: set.id, implementationRef: set.implementationRef, width, first: v, count: 1 });
  }

  /** Every set in order; clean ones come back as records without segments, as streaming leaves them. */
  list(): X12TransactionSet[] {
    const out: X12TransactionSet[] = [];
    for (const e of this.entries) {
      if (!isRun(e)) {
        out.push(e);
        continue;
      }
      for (let i = 0; i < e.count; i++) {
        const controlNumber = String(e.first + i).padStart(e.width, '0');
        out.push({ id: e.id, controlNumber, implementationRef: e.implementationRef, segments: [], findings: [], accepted: true });
      }
    }
    return out;
  }
}
