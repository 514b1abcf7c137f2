import { CalendarSchema } from '../routing/rule-outputs.js';
import { BusinessCalendar } from './business-calendar.js';

const H = 3600_000;
const chicago = new BusinessCalendar(
  CalendarSchema.parse({
    id: 'us-central',
    timeZone: 'America/Chicago',
    hours: { mon: [['08:00', '17:00']], tue: [['08:00', '17:00']], wed: [['08:00', '17:00']], thu: [['08:00', '17:00']], fri: [['08:00', '17:00']] },
    holidays: ['2026-12-25'],
  }),
);
const everyDay = new BusinessCalendar(
  CalendarSchema.parse({
    id: 'ny-7days',
    timeZone: 'America/New_York',
    hours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [['08:00', '17:00']]])),
  }),
);

describe('BusinessCalendar', () => {
  it('carries business time over a weekend', () => {
    // Friday 2026-12-04 15:00 CST (21:00Z) + 4 business hours: 2 on Friday, 2 on Monday → Monday 10:00 CST.
    const due = chicago.add(new Date('2026-12-04T21:00:00Z'), 4 * H);
    expect(due.toISOString()).toBe('2026-12-07T16:00:00.000Z');
    expect(chicago.between(new Date('2026-12-04T21:00:00Z'), due)).toBe(4 * H);
  });

  it('skips a holiday', () => {
    // Thursday 2026-12-24 16:00 CST + 3 h: 1 h Thursday, Friday the 25th is a holiday, weekend, Monday 08:00 + 2 h.
    const due = chicago.add(new Date('2026-12-24T22:00:00Z'), 3 * H);
    expect(due.toISOString()).toBe('2026-12-28T16:00:00.000Z');
    expect(chicago.between(new Date('2026-12-24T22:00:00Z'), new Date('2026-12-28T16:00:00Z'))).toBe(3 * H);
  });

  it('starts counting at opening time when a case opens at night', () => {
    // Tuesday 2026-12-08 02:00 CST + 30 min → 08:30 CST.
    expect(chicago.add(new Date('2026-12-08T08:00:00Z'), H / 2).toISOString()).toBe('2026-12-08T14:30:00.000Z');
  });

  it('keeps local business hours across a daylight-saving change', () => {
    // Saturday 2026-03-07 16:00 EST (21:00Z) + 2 h: 1 h Saturday, then Sunday (EDT, UTC-4) 08:00 + 1 h = 09:00 EDT = 13:00Z.
    const due = everyDay.add(new Date('2026-03-07T21:00:00Z'), 2 * H);
    expect(due.toISOString()).toBe('2026-03-08T13:00:00.000Z');
    // Autumn: Saturday 2026-10-31 16:00 EDT (20:00Z) + 2 h → Sunday 2026-11-01 09:00 EST = 14:00Z.
    expect(everyDay.add(new Date('2026-10-31T20:00:00Z'), 2 * H).toISOString()).toBe('2026-11-01T14:00:00.000Z');
    // A whole business day on either side of the change is 9 real hours.
    expect(everyDay.between(new Date('2026-03-08T00:00:00Z'), new Date('2026-03-09T00:00:00Z'))).toBe(9 * H);
  });

  it('counts real time for 24x7, including the lost hour of a DST change', () => {
    const start = new Date('2026-03-08T05:00:00Z');
    expect(BusinessCalendar.ALWAYS.add(start, 24 * H).toISOString()).toBe('2026-03-09T05:00:00.000Z');
    expect(BusinessCalendar.ALWAYS.between(start, new Date('2026-03-08T06:30:00Z'))).toBe(1.5 * H);
  });

  it('add and between are inverse over many starts', () => {
    for (let i = 0; i < 200; i++) {
      const start = new Date(Date.UTC(2026, 10, 1) + i * 7_919_000);
      const ms = (i * 1_234_567) % (60 * H);
      const due = chicago.add(start, ms);
      expect(chicago.between(start, due)).toBe(ms);
    }
  });

  it('refuses calendars that cannot work', () => {
    expect(() => CalendarSchema.parse({ id: 'x', timeZone: 'Mars/Olympus', hours: '24x7' })).toThrow(/IANA time zone/);
    expect(() => CalendarSchema.parse({ id: 'x', timeZone: 'UTC', hours: { mon: [['17:00', '08:00']] } })).toThrow(/end after it starts/);
    expect(() => CalendarSchema.parse({ id: 'x', timeZone: 'UTC', hours: {} })).toThrow(/at least one/);
  });
});
