import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { prepared } from '../database/prepared.js';

/*
 * SQL for the noise controls, run inside the pipeline transaction. Raw SQL throughout: each is one
 * set-based statement over the whole batch (unnest), which TypeORM's builders cannot express.
 */

/**
 * Identical repeat = the same report again: same code and references (order of keys irrelevant), the
 * same title, quantities and amount, from the same connector, in the same test mode, for the same case
 * key (correlation key). A changed quantity, amount or title (e.g. a corrected invoice with a smaller
 * discrepancy, or a shortfall that grew) is news, not a repeat: it is stored as a new exception and
 * joins the open case. Another connector reporting it is corroboration, not a repeat: it is stored and
 * joins the case. Null without references: nothing then says two reports are about the same thing
 * (e.g. two malformed payloads), so they are never folded together.
 */
export function fingerprintOf(e: CanonicalException): string | null {
  const refs = Object.entries(e.references)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  if (!refs.length) return null;
  // What the problem is, not when or where it was seen.
  const what = [e.title, e.quantities ?? null, e.amountAtRisk ?? null];
  return createHash('sha256').update(JSON.stringify([e.source.testMode, e.source.connectorId, e.code, e.correlationKey, refs, what])).digest('hex').slice(0, 40);
}

export const stormKey = (e: CanonicalException) => `${e.source.testMode ? 'test:' : ''}storm:${e.source.connectorId}:${e.code}`;

/**
 * Serializes workers on the keys a batch reads before it writes (fingerprints, storm counters,
 * case keys to re-open or clear). Transaction-scoped advisory locks, taken in one statement in
 * hash order, so two workers always lock in the same order and cannot deadlock on them.
 */
export async function lockKeys(m: EntityManager, keys: Iterable<string>): Promise<void> {
  const list = [...new Set(keys)];
  if (!list.length) return;
  await prepared(
    m,
    `SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 7) AS h FROM unnest($1::text[]) AS k ORDER BY 1) s`,
    [list],
  );
}

/** The newest exception per fingerprint seen after its cutoff whose case (if any) is still unresolved. */
export async function findRepeats(m: EntityManager, fps: { fp: string; cutoff: Date }[]): Promise<Map<string, { id: string; caseId: string | null }>> {
  if (!fps.length) return new Map();
  const rows = await prepared<{ fingerprint: string; id: string; case_id: string | null }>(
    m,
    REPEATS,
    [fps.map((f) => f.fp), fps.map((f) => f.cutoff)],
  );
  return new Map(rows.map((r) => [r.fingerprint, { id: r.id, caseId: r.case_id }]));
}

/**
 * `findRepeats` and `reopenRecent` in one statement, for a batch whose case keys are final before the
 * repeats are known (no storm member: a storm key depends on the repeats). `items` are the batch's
 * exceptions in order, each with its case key, fingerprint, whether it opens a case and its re-open
 * cutoff (null: no re-open window). A key re-opens as `reopenRecent` would for the batch's groups:
 * only keys with an exception that is stored (not a repeat of a stored exception, nor of an earlier one
 * in the batch), with the cutoff of the first such exception. The repeat lookup sees the cases as they
 * were before the re-open, as it did when it ran first.
 */
export async function findRepeatsAndReopen(
  m: EntityManager,
  fps: { fp: string; cutoff: Date }[],
  items: { key: string; fp: string | null; opens: boolean; cutoff: Date | null }[],
  now: Date,
): Promise<{ repeats: Map<string, { id: string; caseId: string | null }>; reopened: CaseRow[] }> {
  const [row] = await prepared<{ repeats: { fingerprint: string; id: string; case_id: string | null }[]; reopened: CaseRow[] }>(
    m,
    `WITH rep AS (${REPEATS}),
     item AS (
       SELECT u.key, u.fp, u.opens, u.cutoff, u.i, row_number() OVER (PARTITION BY u.fp ORDER BY u.i) AS nth
         FROM unnest($3::varchar[], $4::varchar[], $5::boolean[], $6::timestamptz[]) WITH ORDINALITY AS u(key, fp, opens, cutoff, i)),
     opener AS (
       SELECT DISTINCT ON (key) key, cutoff FROM item
        WHERE opens AND (fp IS NULL OR (nth = 1 AND fp NOT IN (SELECT fingerprint FROM rep)))
        ORDER BY key, i),
     reopened AS (${reopen('opener u', '$7')})
     SELECT (SELECT COALESCE(json_agg(rep), '[]') FROM rep) AS repeats, (SELECT COALESCE(json_agg(r), '[]') FROM reopened r) AS reopened`,
    [fps.map((f) => f.fp), fps.map((f) => f.cutoff), items.map((i) => i.key), items.map((i) => i.fp), items.map((i) => i.opens), items.map((i) => i.cutoff), now],
  );
  return { repeats: new Map(row.repeats.map((r) => [r.fingerprint, { id: r.id, caseId: r.case_id }])), reopened: row.reopened };
}

/** Adds repeats to stored exceptions; returns their new totals. */
export async function addOccurrences(m: EntityManager, adds: { id: string; n: number }[], now: Date) {
  if (!adds.length) return [];
  return prepared<{ id: string; occurrences: number; case_id: string | null; code: string }>(
    m,
    `UPDATE exceptions e SET occurrences = e.occurrences + u.n, last_seen_at = $3
       FROM unnest($1::uuid[], $2::int[]) AS u(id, n)
      WHERE e.id = u.id
      RETURNING e.id, e.occurrences, e.case_id, e.code`,
    [adds.map((a) => a.id), adds.map((a) => a.n), now],
  );
}

/** Exceptions per connector + code detected since a moment (storm detection). */
export async function recentCounts(m: EntityManager, pairs: { connectorId: string; code: string }[], since: Date): Promise<Map<string, number>> {
  if (!pairs.length) return new Map();
  const rows = await prepared<{ connector_id: string; code: string; n: string }>(
    m,
    `SELECT e.connector_id, e.code, count(*) AS n
       FROM unnest($1::varchar[], $2::varchar[]) AS u(connector_id, code)
       JOIN exceptions e ON e.connector_id = u.connector_id AND e.code = u.code AND e.detected_at > $3
      GROUP BY e.connector_id, e.code`,
    [pairs.map((p) => p.connectorId), pairs.map((p) => p.code), since],
  );
  return new Map(rows.map((r) => [`${r.connector_id}|${r.code}`, Number(r.n)]));
}

export interface CaseRow {
  id: string;
  correlation_key: string;
  owner_team: string;
  code: string;
  severity: string;
  site: string | null;
  business_unit: string | null;
  reopen_count: number;
}

/** Re-opens, per key, the case resolved most recently after the key's cutoff, unless an open case exists for the key. */
export async function reopenRecent(m: EntityManager, keys: { key: string; cutoff: Date }[], now: Date): Promise<CaseRow[]> {
  if (!keys.length) return [];
  return prepared<CaseRow>(
    m,
    reopen('unnest($1::varchar[], $2::timestamptz[]) AS u(key, cutoff)', '$3'),
    [keys.map((k) => k.key), keys.map((k) => k.cutoff), now],
  );
}

/** Resolves the open case of each key when its code is one the clearing rule lists. */
export async function resolveCleared(m: EntityManager, clears: { key: string; codes: string[]; note: string }[], now: Date): Promise<(CaseRow & { note: string })[]> {
  if (!clears.length) return [];
  return prepared<CaseRow & { note: string }>(
    m,
    `UPDATE cases c SET status = 'resolved', resolved_at = $4, updated_at = $4, resolution_note = u.note
       FROM unnest($1::varchar[], $2::text[], $3::text[]) AS u(key, codes, note)
      WHERE c.correlation_key = u.key AND c.status <> 'resolved' AND c.code = ANY(string_to_array(u.codes, ','))
      RETURNING c.id, c.correlation_key, c.owner_team, c.code, c.severity, c.site, c.business_unit, c.reopen_count, u.note`,
    [clears.map((c) => c.key), clears.map((c) => c.codes.join(',')), clears.map((c) => c.note), now],
  );
}

/** The newest exception per fingerprint ($1) seen after its cutoff ($2) whose case (if any) is still unresolved. */
const REPEATS = `SELECT DISTINCT ON (e.fingerprint) e.fingerprint, e.id, e.case_id
       FROM unnest($1::varchar[], $2::timestamptz[]) AS u(fp, cutoff)
       JOIN exceptions e ON e.fingerprint = u.fp AND e.last_seen_at > u.cutoff
       LEFT JOIN cases c ON c.id = e.case_id
      WHERE e.case_id IS NULL OR c.status <> 'resolved'
      ORDER BY e.fingerprint, e.last_seen_at DESC`;

/**
 * Re-opens, per key of `keys` (rows `u(key, cutoff)`), the case resolved last after its cutoff unless one is
 * open; `now` is the parameter holding the time. Used over unnest parameters and over a CTE of the batch.
 */
const reopen = (keys: string, now: string) => `UPDATE cases c SET status = 'open', resolved_at = NULL, acknowledged_at = NULL, root_cause = NULL, resolution_note = NULL,
                        reopen_count = c.reopen_count + 1, updated_at = ${now}
       FROM (SELECT DISTINCT ON (r.correlation_key) r.id
               FROM ${keys}
               JOIN cases r ON r.correlation_key = u.key AND r.status = 'resolved' AND r.resolved_at > u.cutoff
              ORDER BY r.correlation_key, r.resolved_at DESC) last
      WHERE c.id = last.id
        AND NOT EXISTS (SELECT 1 FROM cases o WHERE o.correlation_key = c.correlation_key AND o.status <> 'resolved')
      RETURNING c.id, c.correlation_key, c.owner_team, c.code, c.severity, c.site, c.business_unit, c.reopen_count`;
