import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { returnedRows } from './returning.js';

interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

const names = new Map<string, string>();

/** One name per statement text (pg refuses a name reused with another text on a connection). */
function nameOf(text: string): string {
  let n = names.get(text);
  if (!n) {
    n = `hub_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, n);
  }
  return n;
}

/**
 * Runs a hot, fixed statement of the pipeline transaction as a named prepared statement on the
 * transaction's own pg connection: PostgreSQL parses and plans it once per connection instead of on
 * every call, and TypeORM's per-query wrapping is skipped. Measured on the 2-vCPU bench machine, a
 * statement like a subject's document heads: 0.42 ms through `m.query`, 0.21 ms prepared (docs/benchmarks.md,
 * "Matching (issue 4)"). Outside a transaction (no connected query runner) it falls back to `m.query`.
 *
 * Use only for statements whose text is fixed (the name is derived from it), and never with `SELECT *`
 * (a cached plan must keep its result columns across migrations). Returns the rows, for RETURNING too.
 */
export async function prepared<T>(m: EntityManager, text: string, values: unknown[]): Promise<T[]> {
  const qr = m.queryRunner as (typeof m.queryRunner & { databaseConnection?: PgClient }) | undefined;
  const client = qr && !qr.isReleased && qr.isTransactionActive ? qr.databaseConnection : undefined;
  if (!client) return returnedRows<T>(await m.query(text, values));
  return (await client.query({ name: nameOf(text), text, values })).rows as T[];
}
