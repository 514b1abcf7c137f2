import { createDataSource, migrate } from '../../src/database/data-source.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { DATABASE_URL, newWorld, type TestWorld } from '../support/hub-harness.js';

describe('migrations', () => {
  let world: TestWorld;
  beforeAll(() => {
    world = newWorld();
  });
  afterAll(() => world.drop());

  it('apply, revert completely and apply again in an empty schema, and match the entities', async () => {
    const ds = createDataSource({ databaseUrl: DATABASE_URL, dbSchema: world.schema, dbPoolSize: 2 });
    await ds.initialize();
    try {
      expect(await migrate(ds, world.schema)).toHaveLength(MIGRATIONS.length);
      const tables = async () =>
        (await ds.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'migrations'`, [world.schema]))[0].n;
      expect(await tables()).toBeGreaterThanOrEqual(10);
      for (let i = 0; i < MIGRATIONS.length; i++) await ds.undoLastMigration({ transaction: 'each' });
      expect(await tables()).toBe(0);
      expect(await migrate(ds, world.schema)).toHaveLength(MIGRATIONS.length);
      expect(await ds.showMigrations()).toBe(false);

      // What `npm run migration:generate` would write after the committed migrations: nothing. An entity
      // changed without a migration (or a migration without its entity) shows up here as SQL to run.
      const pending = await ds.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });

  it('SlaClockScope down keeps one clock per case and kind, and per task, whatever the earlier rounds left', async () => {
    const ds = createDataSource({ databaseUrl: DATABASE_URL, dbSchema: world.schema, dbPoolSize: 2 });
    await ds.initialize();
    try {
      await migrate(ds, world.schema);
      await ds.query(`DELETE FROM sla_clocks`);
      const clock = (id: string, caseId: string, taskId: string | null, kind: string, status: string, startedAt: string) =>
        ds.query(
          `INSERT INTO sla_clocks (id, case_id, task_id, kind, sla_id, calendar_id, status, started_at, target_ms, thresholds, basis)
           VALUES ($1, $2, $3, $4, 's', 'c', $5, $6, 60000, '[]', 'test')`,
          [id, caseId, taskId, kind, status, startedAt],
        );
      const [a, b, t] = ['0190aaaa-0000-7000-8000-00000000000a', '0190aaaa-0000-7000-8000-00000000000b', '0190aaaa-0000-7000-8000-0000000000ff'];
      // Case a: an earlier round's stopped clock and the running one.
      await clock('0190aaaa-0000-7000-8000-000000000001', a, null, 'acknowledge', 'stopped', '2026-12-01T10:00:00Z');
      await clock('0190aaaa-0000-7000-8000-000000000002', a, null, 'acknowledge', 'running', '2026-12-02T10:00:00Z');
      // A task whose clock kind changed between rounds (the old index was on task_id alone).
      await clock('0190aaaa-0000-7000-8000-000000000003', a, t, 'resolve', 'stopped', '2026-12-01T10:00:00Z');
      await clock('0190aaaa-0000-7000-8000-000000000004', a, t, 'acknowledge', 'running', '2026-12-02T10:00:00Z');
      // Case b: two rounds started at the same instant.
      await clock('0190aaaa-0000-7000-8000-000000000005', b, null, 'resolve', 'stopped', '2026-12-01T10:00:00Z');
      await clock('0190aaaa-0000-7000-8000-000000000006', b, null, 'resolve', 'running', '2026-12-01T10:00:00Z');
      const newer = MIGRATIONS.slice(MIGRATIONS.findIndex((m) => m.name === 'SlaClockScope1795812000000'));
      for (let i = 0; i < newer.length; i++) await ds.undoLastMigration({ transaction: 'each' });
      expect((await ds.query(`SELECT id FROM sla_clocks ORDER BY id`)).map((r: { id: string }) => r.id.slice(-1))).toEqual(['2', '4', '6']);
      expect(await migrate(ds, world.schema)).toEqual(newer.map((m) => m.name));
    } finally {
      await ds.destroy();
    }
  });
});
