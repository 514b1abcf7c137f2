import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { createDataSource, migrate } from '../../src/database/data-source.js';
import { findRepeats, findRepeatsAndReopen, reopenRecent } from '../../src/cases/noise-control.js';
import { DATABASE_URL, newWorld, type TestWorld } from '../support/hub-harness.js';

/**
 * findRepeatsAndReopen (one statement) against what it replaces: findRepeats, then reopenRecent for the
 * keys CaseIntake would re-open (keys with an exception that is stored, not a repeat; the first one's
 * cutoff). Each scenario runs in its own transaction, rolled back, on the same seeded rows.
 */
const now = new Date('2026-11-28T12:00:00.000Z');
const minutesAgo = (n: number) => new Date(now.getTime() - n * 60_000);
const ROLLBACK = new Error('rollback');

interface Item {
  key: string;
  fp: string | null;
  opens: boolean;
  cutoff: Date | null;
}

describe('noise controls: repeats and re-opens in one statement', () => {
  let world: TestWorld;
  let ds: DataSource;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    world = newWorld();
    ds = createDataSource({ databaseUrl: DATABASE_URL, dbSchema: world.schema, dbPoolSize: 2 });
    await ds.initialize();
    await migrate(ds, world.schema);
    const kase = async (name: string, key: string, status: 'open' | 'resolved', resolvedMinutesAgo?: number) => {
      ids[name] = randomUUID();
      await ds.query(
        `INSERT INTO cases (id, status, correlation_key, title, code, category, severity, owner_team, opened_at, updated_at, routing, resolved_at)
         VALUES ($1, $2, $3, 't', 'WAREHOUSE.PICK_SHORTFALL', 'WAREHOUSE', 'standard', 'warehouse-ops', $4, $4, '{}', $5)`,
        [ids[name], status, key, minutesAgo(600), resolvedMinutesAgo === undefined ? null : minutesAgo(resolvedMinutesAgo)],
      );
    };
    const exception = async (name: string, caseName: string | null, key: string, fp: string, seenMinutesAgo: number) => {
      ids[name] = randomUUID();
      await ds.query(
        `INSERT INTO exceptions (id, message_id, ordinal, code, category, severity, title, connector_id, document_type, occurred_at, detected_at,
                                 correlation_key, mapping_id, mapping_version, payload, case_id, fingerprint, last_seen_at, test_mode)
         VALUES ($1, $2, 0, 'WAREHOUSE.PICK_SHORTFALL', 'WAREHOUSE', 'standard', 't', 'wms', 'pick.shortfall', $3, $3, $4, 'm', '1.0.0', '{}', $5, $6, $3, false)`,
        [ids[name], randomUUID(), minutesAgo(seenMinutesAgo), key, caseName && ids[caseName], fp],
      );
    };
    await kase('resolvedA', 'order:A', 'resolved', 30);
    await exception('inResolvedA', 'resolvedA', 'order:A', 'fp-a', 40);
    await kase('openB', 'order:B', 'open');
    await exception('inOpenB', 'openB', 'order:B', 'fp-b', 5);
    await kase('resolvedC', 'order:C', 'resolved', 60 * 30); // resolved 30 h ago
    await kase('resolvedD', 'order:D', 'resolved', 10);
    await kase('openD', 'order:D', 'open');
  }, 60_000);
  afterAll(async () => {
    await ds?.destroy();
    await world?.drop();
  });

  /** Runs `fn` in a transaction that is always rolled back. */
  const rolledBack = async <T>(fn: (m: EntityManager) => Promise<T>): Promise<T> => {
    let out: T | undefined;
    await ds.transaction(async (m) => {
      out = await fn(m);
      throw ROLLBACK;
    }).catch((e) => {
      if (e !== ROLLBACK) throw e;
    });
    return out as T;
  };

  const fpsOf = (items: Item[]) => [...new Set(items.flatMap((i) => (i.fp ? [i.fp] : [])))].map((fp) => ({ fp, cutoff: minutesAgo(15) }));

  /** The two statements, with CaseIntake's choice of keys in between. */
  const twoStatements = (items: Item[]) =>
    rolledBack(async (m) => {
      const repeats = await findRepeats(m, fpsOf(items));
      const firstFp = new Set<string>();
      const keys = new Map<string, Date>();
      for (const it of items) {
        const stored = !it.fp || (!repeats.has(it.fp) && !firstFp.has(it.fp));
        if (it.fp) firstFp.add(it.fp);
        if (it.opens && stored && it.cutoff && !keys.has(it.key)) keys.set(it.key, it.cutoff);
      }
      const reopened = await reopenRecent(m, [...keys].map(([key, cutoff]) => ({ key, cutoff })), now);
      return { repeats: [...repeats.keys()].sort(), reopened: reopened.map((r) => r.id).sort() };
    });
  const oneStatement = (items: Item[]) =>
    rolledBack(async (m) => {
      const r = await findRepeatsAndReopen(m, fpsOf(items), items, now);
      return { repeats: [...r.repeats.keys()].sort(), reopened: r.reopened.map((c) => c.id).sort() };
    });

  const scenarios: [string, Item[], { repeats: string[]; reopened: string[] }][] = [
    ['a new exception on a key resolved 30 min ago re-opens its case', [{ key: 'order:A', fp: 'fp-new-a', opens: true, cutoff: minutesAgo(24 * 60) }], { repeats: [], reopened: ['resolvedA'] }],
    ['an exception without a fingerprint re-opens too', [{ key: 'order:A', fp: null, opens: true, cutoff: minutesAgo(24 * 60) }], { repeats: [], reopened: ['resolvedA'] }],
    ['the same exception as one in the resolved case is not a repeat: it re-opens', [{ key: 'order:A', fp: 'fp-a', opens: true, cutoff: minutesAgo(24 * 60) }], { repeats: [], reopened: ['resolvedA'] }],
    ['a key whose only exception repeats one of an open case is not re-opened', [{ key: 'order:A', fp: 'fp-b', opens: true, cutoff: minutesAgo(24 * 60) }], { repeats: ['fp-b'], reopened: [] }],
    ['the first of two identical exceptions decides, with its cutoff', [
      { key: 'order:A', fp: 'fp-twice', opens: true, cutoff: minutesAgo(20) },
      { key: 'order:A', fp: 'fp-twice', opens: true, cutoff: minutesAgo(24 * 60) },
    ], { repeats: [], reopened: [] }],
    ['of two exceptions on one key, the cutoff of the first decides', [
      { key: 'order:A', fp: 'fp-first', opens: true, cutoff: minutesAgo(20) },
      { key: 'order:A', fp: 'fp-second', opens: true, cutoff: minutesAgo(24 * 60) },
    ], { repeats: [], reopened: [] }],
    ['a repeat of an earlier exception of the batch is not stored, so it re-opens nothing', [
      { key: 'order:A', fp: 'fp-echo', opens: false, cutoff: null },
      { key: 'order:A', fp: 'fp-echo', opens: true, cutoff: minutesAgo(24 * 60) },
    ], { repeats: [], reopened: [] }],
    ['an exception that opens no case re-opens nothing', [{ key: 'order:A', fp: 'fp-info', opens: false, cutoff: minutesAgo(24 * 60) }], { repeats: [], reopened: [] }],
    ['no re-open window, no re-open', [{ key: 'order:A', fp: 'fp-x', opens: true, cutoff: null }], { repeats: [], reopened: [] }],
    ['a case resolved before the window stays resolved', [{ key: 'order:C', fp: 'fp-c', opens: true, cutoff: minutesAgo(24 * 60) }], { repeats: [], reopened: [] }],
    ['a key with an open case re-opens nothing (the exception joins the open one)', [{ key: 'order:D', fp: 'fp-d', opens: true, cutoff: minutesAgo(24 * 60) }], { repeats: [], reopened: [] }],
    ['several keys at once', [
      { key: 'order:B', fp: 'fp-b', opens: true, cutoff: minutesAgo(24 * 60) },
      { key: 'order:A', fp: 'fp-y', opens: true, cutoff: minutesAgo(24 * 60) },
      { key: 'order:C', fp: 'fp-z', opens: true, cutoff: minutesAgo(24 * 60) },
    ], { repeats: ['fp-b'], reopened: ['resolvedA'] }],
  ];

  it.each(scenarios)('%s', async (_name, items, expected) => {
    const want = { repeats: expected.repeats, reopened: expected.reopened.map((n) => ids[n]).sort() };
    expect(await oneStatement(items)).toEqual(want);
    expect(await twoStatements(items)).toEqual(want);
  });
});
