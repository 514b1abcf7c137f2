/*
 * Column defaults written the way TypeORM reads them back from PostgreSQL, so that `npm run
 * migration:generate` finds nothing to change after the committed migrations (the migrations test checks
 * this). TypeORM strips every `::type` cast from the default PostgreSQL reports ('[]'::jsonb reads as
 * '[]') before comparing it with the entity's. The hub never synchronizes a schema from its entities: the
 * migrations create the columns, with the full expressions noted here.
 */

/** jsonb `'[]'::jsonb`. */
export const EMPTY_JSON_ARRAY = () => "'[]'";

/** jsonb `'{}'::jsonb`. */
export const EMPTY_JSON_OBJECT = () => "'{}'";

/**
 * bigint `((pg_current_xact_id())::text)::bigint`: the writing transaction's id, as migrations define it.
 * Only this comparison text lives here; it is not a valid bigint default by itself (it is the xid8).
 */
export const CURRENT_TRANSACTION_ID = () => '((pg_current_xact_id()))';
