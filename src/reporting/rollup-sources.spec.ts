import { DateTime } from 'luxon';
import { ReportQuery } from './report-filters.js';
import { caseSource, cover, dayFitsBucket, exceptionSource, type Span } from './rollup-sources.js';

const HOUR = 3600_000;
const DAY = 86_400_000;
const t = (iso: string) => Date.parse(iso);
const show = (spans: Span[]) => spans.map((s) => `${s.level} ${new Date(s.from).toISOString()} ${new Date(s.to).toISOString()}`);

/** A small deterministic generator, so a failing case can be replayed. */
function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
}

describe('rollup spans', () => {
  it('reads whole months and days of an unbucketed range, hours only at the ragged ends', () => {
    expect(show(cover(t('2026-01-28T16:23:00Z'), t('2026-04-03T07:10:00Z'), { months: true, dayFits: () => true }))).toEqual([
      'hour 2026-01-28T16:00:00.000Z 2026-01-29T00:00:00.000Z',
      'day 2026-01-29T00:00:00.000Z 2026-02-01T00:00:00.000Z',
      'month 2026-02-01T00:00:00.000Z 2026-04-01T00:00:00.000Z',
      'day 2026-04-01T00:00:00.000Z 2026-04-03T00:00:00.000Z',
      'hour 2026-04-03T00:00:00.000Z 2026-04-03T07:10:00.000Z',
    ]);
    // Less than a day: hours only, up to `to` (the hour holding `to` is read, as before).
    expect(show(cover(t('2026-07-04T10:15:00Z'), t('2026-07-04T12:40:00Z'), { months: true, dayFits: () => true }))).toEqual([
      'hour 2026-07-04T10:00:00.000Z 2026-07-04T12:40:00.000Z',
    ]);
  });

  it('reads hour by hour the UTC days that a local week splits, and the DST day', () => {
    const fits = dayFitsBucket('week', 'America/Chicago');
    expect(fits(t('2026-11-09T00:00:00Z'))).toBe(false); // Monday UTC: its first hours are Sunday evening in Chicago
    expect(fits(t('2026-11-10T00:00:00Z'))).toBe(true);
    expect(fits(t('2026-11-01T00:00:00Z'))).toBe(false); // CDT -> CST during the day
    expect(dayFitsBucket('day', 'America/Chicago')(t('2026-11-10T00:00:00Z'))).toBe(false);
    expect(dayFitsBucket('hour', 'UTC')(t('2026-11-10T00:00:00Z'))).toBe(false);
    expect(dayFitsBucket('day', 'UTC')(t('2026-11-10T00:00:00Z'))).toBe(true);
  });

  it('covers any range exactly once, each day or month inside one bucket of the requested zone', () => {
    const rand = rng(42);
    const zones = ['UTC', 'America/Chicago', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Europe/London', 'Pacific/Chatham'];
    const buckets = ['hour', 'day', 'week', 'month'] as const;
    for (let i = 0; i < 150; i++) {
      const from = t('2025-10-01T00:00:00Z') + Math.floor(rand() * 200 * DAY);
      const to = from + 1 + Math.floor(rand() * 60 * DAY);
      const tz = zones[i % zones.length];
      const bucket = buckets[Math.floor(rand() * 4)];
      const bucketed = rand() < 0.8;
      const months = !bucketed || (bucket === 'month' && tz === 'UTC');
      const spans = cover(from, to, { months, dayFits: bucketed ? dayFitsBucket(bucket, tz) : () => true });
      expect(spans[0].from).toBe(Math.floor(from / HOUR) * HOUR);
      expect(spans[spans.length - 1].to).toBe(to);
      spans.forEach((s, j) => {
        if (j > 0) expect(s.from).toBe(spans[j - 1].to);
        if (s.level === 'hour') return;
        expect(s.from % DAY).toBe(0);
        expect(s.to % DAY).toBe(0);
        if (s.level === 'month') expect(months).toBe(true);
        if (!bucketed) return;
        // Every hour of each day (month) of the span lands in the bucket of that day's (month's) first hour: its row may stand for them.
        const local = (ms: number) => DateTime.fromMillis(ms, { zone: tz }).startOf(bucket).toMillis();
        for (let unit = s.from; unit < s.to; ) {
          const next = s.level === 'day' ? unit + DAY : Date.UTC(new Date(unit).getUTCFullYear(), new Date(unit).getUTCMonth() + 1, 1);
          for (let h = unit; h < next; h += HOUR) expect(local(h)).toBe(local(unit));
          unit = next;
        }
      });
    }
  });
});

describe('rollup sources', () => {
  const q = (qs: string) => ReportQuery.parse(Object.fromEntries(new URLSearchParams(qs)));
  const range = 'from=2025-11-27T16:23:00Z&to=2026-11-27T16:23:00Z';

  it('reads percentiles from the by-team histograms when nothing but team is asked for', () => {
    expect(caseSource('cycle-times', q(`${range}&groupBy=team`), 'bins').sql).toMatch(/report_case_team_days .* report_case_team_months/s);
    expect(caseSource('headline', q(range), 'bins').sql).toContain('report_case_team_months');
    expect(caseSource('cycle-times', q(`${range}&groupBy=team&site=RNO1`), 'bins').sql).toMatch(/FROM report_case_months/);
    expect(caseSource('sla', q(`${range}&groupBy=team`), 'totals').sql).toMatch(/report_case_totals_days .* report_case_totals_months/s);
  });

  it('reads a year of exceptions from months, days and hours; week buckets in UTC from days', () => {
    expect(exceptionSource('pareto', q(range), false).sql).toMatch(/report_exception_hours .* report_exception_days .* report_exception_months/s);
    const weekly = exceptionSource('volume', q(`${range}&bucket=week`), true).sql;
    expect(weekly).not.toContain('report_exception_months');
    expect(weekly).toContain('report_exception_days');
  });

  it('still refuses what a rollup cannot answer', () => {
    expect(() => caseSource('sla', q(`${range}&supplier=S-ACME`), 'totals')).toThrow('report sla cannot filter by supplier');
    expect(() => exceptionSource('volume', q(`${range}&bucket=hour`), true)).toThrow(/ranges up to 92 days/);
  });
});
