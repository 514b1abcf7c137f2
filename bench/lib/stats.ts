/** Nearest-rank percentile of an unsorted sample (sorted copy), in the sample's unit. */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export function summary(values: ArrayLike<number>) {
  let sum = 0;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (values[i] > max) max = values[i];
  }
  return {
    n: values.length,
    mean: values.length ? sum / values.length : NaN,
    p50: percentile(values, 0.5),
    p90: percentile(values, 0.9),
    p99: percentile(values, 0.99),
    max: values.length ? max : NaN,
  };
}

export const round = (v: number, digits = 1) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : null);

export function fmt(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A plain-text table that also pastes into Markdown unchanged. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export type StageTotals = Record<string, { sum: number; count: number }>;

/** Sum and count per stage of the hub's hub_stage_duration_seconds histogram (Prometheus text format). */
export function stageTotals(metricsText: string): StageTotals {
  const out: StageTotals = {};
  for (const line of metricsText.split('\n')) {
    const m = /^hub_stage_duration_seconds_(sum|count)\{stage="([^"]+)"\} ([0-9.eE+-]+)$/.exec(line);
    if (!m) continue;
    out[m[2]] ??= { sum: 0, count: 0 };
    out[m[2]][m[1] as 'sum' | 'count'] = Number(m[3]);
  }
  return out;
}

const LOOP_MONITOR_RESOLUTION_MS = 10;

/**
 * The hub's event-loop delay (prom-client default metrics, `hub_process_` prefix). prom-client resets
 * its delay monitor at every scrape, so the scrape after the measured phase covers that phase alone.
 * A webhook's 202 waits for the loop, so this is the part of accept latency the process itself adds.
 */
export function eventLoopDelayMs(metricsText: string): { p50: number; p99: number; max: number } | null {
  // Node's monitor reports each timer interval including its 10 ms resolution (prom-client's default
  // precision): an idle loop reads 10.0-10.2 ms. The delay the process adds is what is beyond that.
  const get = (name: string) => {
    const m = new RegExp(`^hub_process_nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(metricsText);
    return m ? Math.max(0, Number(m[1]) * 1000 - LOOP_MONITOR_RESOLUTION_MS) : NaN;
  };
  const out = { p50: get('p50'), p99: get('p99'), max: get('max') };
  return Number.isNaN(out.p99) ? null : out;
}

/** Per-stage count, mean (ms) and total time (s) between two scrapes: the measured phase only. */
export function stageDiff(a: StageTotals, b: StageTotals) {
  return Object.fromEntries(
    Object.keys(b).map((s) => {
      const count = b[s].count - (a[s]?.count ?? 0);
      const sum = b[s].sum - (a[s]?.sum ?? 0);
      return [s, { count, meanMs: count ? (sum / count) * 1000 : NaN, totalS: sum }];
    }),
  );
}
