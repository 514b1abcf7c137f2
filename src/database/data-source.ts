import { DataSource, type DataSourceOptions } from 'typeorm';
import type { HubConfig } from '../config/hub-config.js';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from '../../migrations/index.js';

/** One DataSource definition for the app, the migration CLI and the tests. */
export function dataSourceOptions(cfg: Pick<HubConfig, 'databaseUrl' | 'dbSchema' | 'dbPoolSize'>): DataSourceOptions {
  return {
    type: 'postgres',
    url: cfg.databaseUrl,
    schema: cfg.dbSchema,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: {
      max: cfg.dbPoolSize,
      // Raw SQL in repositories is unqualified; the search path puts it in the hub's schema.
      options: `-c search_path=${cfg.dbSchema}`,
      connectionTimeoutMillis: 5000,
      application_name: 'exception-hub',
    },
  };
}

export function createDataSource(cfg: Pick<HubConfig, 'databaseUrl' | 'dbSchema' | 'dbPoolSize'>): DataSource {
  return new DataSource(dataSourceOptions(cfg));
}

/** Creates the schema (if missing) and applies pending migrations. */
export async function migrate(ds: DataSource, schema: string): Promise<string[]> {
  await ds.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  const applied = await ds.runMigrations({ transaction: 'each' });
  return applied.map((m) => m.name);
}
