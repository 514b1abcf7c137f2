/**
 * TypeORM's postgres driver answers `query()` for UPDATE/DELETE ... RETURNING with
 * `[rows, affectedCount]`, but for INSERT/SELECT with plain rows. This yields the rows either way.
 */
export function returnedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}
