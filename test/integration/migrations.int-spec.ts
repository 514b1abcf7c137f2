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
});
