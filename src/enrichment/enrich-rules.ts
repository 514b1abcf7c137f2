import { z } from 'zod';

/** Canonical fields an enrichment may fill: the tier routing rules read, or anything under attributes. */
const target = z
  .string()
  .regex(/^(customerTier|site|businessUnit|attributes\.[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*)$/, 'must be customerTier, site, businessUnit or attributes.<name>');

/**
 * Which lookups run for which exception codes, declared on the connector instance that offers the
 * lookup (e.g. the ERP). `key` maps lookup key names to paths in the exception; `set` maps
 * exception fields to fields of the lookup result.
 */
export const EnrichRule = z.strictObject({
  codes: z.array(z.string().regex(/^[A-Z]+\.[A-Z_]+$/, 'must be an exception code such as WAREHOUSE.PICK_SHORTFALL')).min(1),
  lookup: z.string().min(1),
  key: z.record(z.string().min(1), z.string().regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, 'must be a dotted path such as references.customer')),
  set: z.record(target, z.string().min(1)),
  /** Give up on this lookup after this long; the exception routes on what is known. */
  timeoutMs: z.number().int().min(10).max(30_000).default(1500),
  /** Do not overwrite a value the source already sent. */
  overwrite: z.boolean().default(false),
});
export type EnrichRule = z.infer<typeof EnrichRule>;
export const EnrichRules = z.array(EnrichRule).default([]);
