import pg from 'pg';
import { ConfigError, loadConfig, redactUrl } from '../src/config/hub-config.js';
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

async function ensureDatabase(url: string) {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (e) {
    throw new ConfigError(`cannot reach PostgreSQL at ${redactUrl(url)} (DATABASE_URL): ${(e as Error).message}; start PostgreSQL or fix DATABASE_URL`);
  }
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

quickstart().catch((e) => {
  console.error(`exception-hub: ${e instanceof ConfigError ? '' : 'failed to start: '}${(e as Error).message}`);
  process.exit(e instanceof ConfigError ? 2 : 1);
});
