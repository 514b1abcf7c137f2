import type { EntityManager } from 'typeorm';
import { prepared } from './prepared.js';

/**
 * One write of a joint statement: its SQL (an INSERT or UPDATE without RETURNING), given the number of
 * its first parameter, and its parameters in order.
 */
export interface WritePart {
  sql: (first: number, tag: string) => string;
  args: unknown[];
  /**
   * CTEs the part's statement needs (`name AS (...)`, comma-separated), given the same first parameter
   * number: a data-modifying CTE may not be nested, so these go to the joint statement's top level.
   * `tag` is unique to the part within the statement: end each CTE's name with it (a statement may hold
   * two parts of one kind).
   */
  ctes?: (first: number, tag: string) => string;
}

/**
 * Makes independent writes (none reading what another writes) in one statement, one round trip instead
 * of one each: all but the last become data-modifying CTEs, which PostgreSQL always runs whether or not
 * they are referenced. All parts see the statement's one snapshot, and AFTER triggers fire at its end,
 * as they would after separate statements. Null parts (nothing to write) are left out; nothing at all
 * writes nothing.
 *
 * Two parts may write one table only where they touch different rows: of two changes to one row in a
 * statement PostgreSQL keeps one, without an error. (The pipeline's SLA clock parts update the cases
 * opened and the cases re-opened by one recording: never the same case.)
 *
 * The audit trail and the event outbox are written this way at the end of the hub's transactions
 * (with matching's end of run in the pipeline's): each round trip inside a transaction costs about
 * 0.4 ms on the bench machine, more than most of these statements take to run (docs/benchmarks.md).
 */
export async function writeJointly(m: EntityManager, parts: (WritePart | null | undefined)[]): Promise<void> {
  const present = parts.filter((p): p is WritePart => !!p);
  if (!present.length) return;
  let next = 1;
  const ctes: string[] = [];
  const texts = present.map((part, i) => {
    if (part.ctes) ctes.push(part.ctes(next, `_${i}`));
    const text = part.sql(next, `_${i}`);
    next += part.args.length;
    return text;
  });
  const last = texts.pop()!;
  ctes.push(...texts.map((t, i) => `w${i} AS (${t})`));
  const text = ctes.length ? `WITH ${ctes.join(', ')} ${last}` : last;
  await prepared(m, text, present.flatMap((part) => part.args));
}

/** `$p::t1[], $p+1::t2[], ...`: unnest's array parameters from `$p` on. */
export function arrayParams(p: number, types: string[]): string {
  return types.map((t, i) => `$${p + i}::${t}[]`).join(', ');
}
