import { ConfigError, loadConfig } from './config/hub-config.js';
import { createDataSource, migrate } from './database/data-source.js';
import { startHub } from './hub.js';

/**
 * `node dist/src/main.js [start|migrate]`. Configuration and startup problems are printed as
 * one line naming the setting and the fix, and the process exits non-zero.
 */
async function main(command = 'start') {
  if (command === 'migrate') {
    // Migrations touch no secret: the master key is not needed to run them.
    const cfg = loadConfig({ HUB_MASTER_KEY: 'not-needed-to-migrate-the-schema-000000', ...process.env });
    const ds = createDataSource(cfg);
    try {
      await ds.initialize();
    } catch (e) {
      throw new ConfigError(`cannot reach PostgreSQL (DATABASE_URL): ${(e as Error).message}; start PostgreSQL or fix DATABASE_URL`);
    }
    const applied = await migrate(ds, cfg.dbSchema);
    console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
    await ds.destroy();
    return;
  }
  if (command !== 'start') throw new ConfigError(`unknown command "${command}"; use start or migrate`);
  await startHub(loadConfig());
}

main(process.argv[2]).catch((e) => {
  if (e instanceof ConfigError) {
    console.error(`exception-hub: ${e.message}`);
    process.exit(2);
  }
  console.error(`exception-hub: failed to start: ${(e as Error)?.message ?? e}`);
  process.exit(1);
});
