import { DateTime } from 'luxon';
import { WEEKDAYS, type CalendarSpec } from '../routing/rule-outputs.js';

/** Longest search for business time; a calendar with no hours for ten years is a policy mistake. */
const MAX_DAYS = 3660;

/**
 * Business time in one calendar. Intervals are local wall-clock times in the calendar's zone, built
 * per day with luxon, so a daylight-saving change shortens or lengthens that day's real hours the way
 * people experience them. Holidays are local dates with no business hours. `24x7` counts real time.
 */
export class BusinessCalendar {
  private readonly holidays: Set<string>;
  private readonly days = new Map<number, { intervals: [number, number][]; next: number }>();

  constructor(readonly spec: CalendarSpec) {
    this.holidays = new Set(spec.holidays);
  }

  static readonly ALWAYS = new BusinessCalendar({ id: '24x7', timeZone: 'UTC', hours: '24x7', holidays: [] });

  /** The moment `ms` of business time after `start`. */
  add(start: Date, ms: number): Date {
    if (ms <= 0) return start;
    if (this.spec.hours === '24x7') return new Date(start.getTime() + ms);
    let left = ms;
    let day = this.dayOf(start.getTime());
    for (let i = 0; i < MAX_DAYS; i++) {
      const d = this.day(day);
      for (const [from, to] of d.intervals) {
        const s = Math.max(from, start.getTime());
        if (s >= to) continue;
        if (left <= to - s) return new Date(s + left);
        left -= to - s;
      }
      day = d.next;
    }
    throw new Error(`calendar ${this.spec.id} has no business hours within ${MAX_DAYS} days`);
  }

  /** Business time between two moments (0 when `to` is not after `from`). */
  between(from: Date, to: Date): number {
    const a = from.getTime();
    const b = to.getTime();
    if (b <= a) return 0;
    if (this.spec.hours === '24x7') return b - a;
    let total = 0;
    let day = this.dayOf(a);
    for (let i = 0; i < MAX_DAYS + 1 && day < b; i++) {
      const d = this.day(day);
      for (const [s, e] of d.intervals) total += Math.max(0, Math.min(e, b) - Math.max(s, a));
      day = d.next;
    }
    return total;
  }

  private lastDay?: { start: number; next: number };

  private dayOf(ms: number): number {
    // Nearly every call in a pipeline batch asks about the same moment: the local day found last time
    // answers without luxon's zone arithmetic (which was ~2 % of the hub's CPU under webhook load).
    const last = this.lastDay;
    if (last && ms >= last.start && ms < last.next) return last.start;
    const start = DateTime.fromMillis(ms, { zone: this.spec.timeZone }).startOf('day').toMillis();
    this.lastDay = { start, next: this.day(start).next };
    return start;
  }

  /** A local day (by its start) → its business intervals as epoch ms (empty on holidays) and the next day's start. */
  private day(start: number): { intervals: [number, number][]; next: number } {
    // luxon zone arithmetic is the cost here; a day never changes, so each is computed once.
    const hit = this.days.get(start);
    if (hit) return hit;
    const day = DateTime.fromMillis(start, { zone: this.spec.timeZone });
    const v = { intervals: this.computeIntervals(day), next: day.plus({ days: 1 }).toMillis() };
    if (this.days.size > 4000) this.days.clear();
    this.days.set(start, v);
    return v;
  }

  private computeIntervals(day: DateTime): [number, number][] {
    const hours = this.spec.hours as Exclude<CalendarSpec['hours'], '24x7'>;
    if (this.holidays.has(day.toISODate()!)) return [];
    const list = hours[WEEKDAYS[day.weekday - 1]] ?? [];
    return list.map(([from, to]) => [at(day, from), at(day, to)] as [number, number]).sort((x, y) => x[0] - y[0]);
  }
}

/** Local wall-clock time on a day; a time skipped by a DST jump moves forward, as luxon does. */
function at(day: DateTime, hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  if (h === 24) return day.plus({ days: 1 }).toMillis();
  return day.set({ hour: h, minute: m, second: 0, millisecond: 0 }).toMillis();
}

/** Calendars of a policy by id, with `24x7` always present. */
export function calendarsOf(specs: CalendarSpec[]): Map<string, BusinessCalendar> {
  const m = new Map<string, BusinessCalendar>([['24x7', BusinessCalendar.ALWAYS]]);
  for (const c of specs) m.set(c.id, new BusinessCalendar(c));
  return m;
}
