import pg from 'pg';
import { ConfigError, redactUrl } from '../src/config/hub-config.js';

/** The quick start and the demo create the database when it is missing (a fresh machine has only `postgres`). */
export async function ensureDatabase(url: string) {
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
