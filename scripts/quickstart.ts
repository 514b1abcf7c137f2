import { ConfigError, loadConfig } from '../src/config/hub-config.js';
import { ensureDatabase } from './ensure-database.js';
import { startHub } from '../src/hub.js';
import { withLocalEnv } from './local-env.js';

/**
 * `npm start`: the quick start. Creates the database if it is missing, applies migrations,
 * loads the sample connector, mapping and policy, and runs every role in this one process.
 */
async function quickstart() {
  const env = withLocalEnv(true);
  Object.assign(process.env, env);
  process.env.HUB_MIGRATE_ON_START ??= 'true';
  const cfg = loadConfig();
  await ensureDatabase(cfg.databaseUrl);
  const hub = await startHub(cfg);
  const base = `http://127.0.0.1:${cfg.port}`;
  console.log(
    [
      '',
      `Exception Hub is running at ${base}  (API docs: ${base}/docs)`,
      `  admin API key : ${cfg.adminKey ?? '(HUB_ADMIN_KEY not set)'}`,
      `  sample WMS    : connector "reno-wms", signing secret in .hub/local.env`,
      `  try           : npm run sample:webhook   then   curl -H "Authorization: Bearer ${cfg.adminKey}" ${base}/v1/cases`,
      '',
    ].join('\n'),
  );
  void hub;
}

quickstart().catch((e) => {
  console.error(`exception-hub: ${e instanceof ConfigError ? '' : 'failed to start: '}${(e as Error).message}`);
  process.exit(e instanceof ConfigError ? 2 : 1);
});
