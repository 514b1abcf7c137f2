import type { Dimension } from './report-filters.js';

export interface ReportResult {
  report: string;
  rows: Record<string, unknown>[];
  summary?: Record<string, unknown>;
}

export type Row = Record<string, any>;

export function named(r: Row, dims: Dimension[]): Row {
  return Object.fromEntries(dims.map((d, i) => [d, r[`k${i}`]]));
}
export function keyOf(r: Row, dims: Dimension[]): string {
  return dims.map((d, i) => String(r[`k${i}`] ?? r[d] ?? '')).join('\u0001');
}
export function ratio(a: number, b: number): number | null {
  return b ? round4(a / b) : null;
}
export function round2(n: number): number {
  return Math.round(Number(n) * 100) / 100;
}
export function round4(n: number): number {
  return Math.round(n * 10000) / 10000;
}
export function iso(d: Date | string | null): string | null {
  return d === null || d === undefined ? null : new Date(d).toISOString();
}
