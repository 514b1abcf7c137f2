/**
 * Cycle times are rolled up as a log-scale histogram (bin = floor(ln(1 + minutes) / ln 1.2), the
 * same formula as the trigger in migrations/sql/reporting-triggers.ts), so percentiles come from
 * summed bins instead of sorting every case: each bin spans 20 %, its midpoint is within ~10 %.
 */
export const BIN_FACTOR = 1.2;

export function binOf(minutes: number): number {
  return Math.floor(Math.log(1 + Math.max(minutes, 0)) / Math.log(BIN_FACTOR));
}

/** Geometric midpoint of a bin, in minutes. */
export function binMidpoint(bin: number): number {
  const lo = Math.pow(BIN_FACTOR, bin) - 1;
  const hi = Math.pow(BIN_FACTOR, bin + 1) - 1;
  return lo <= 0 ? hi / 2 : Math.sqrt(lo * hi);
}

/** The q-quantile (0..1) of a histogram given as bin → count; null when empty. */
export function quantile(bins: Map<number, number>, q: number): number | null {
  const total = [...bins.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const target = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const b of [...bins.keys()].sort((x, y) => x - y)) {
    seen += bins.get(b)!;
    if (seen >= target) return Math.round(binMidpoint(b) * 10) / 10;
  }
  return null;
}
