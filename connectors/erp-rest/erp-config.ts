import { z } from 'zod';
import { EnrichRules } from '../../src/enrichment/enrich-rules.js';

const httpUrl = z.string().refine((v) => {
  try {
    return ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}, 'must be an http:// or https:// URL');

const field = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a field name such as ModifiedAt');

/** One entity set the hub reads changes from (sales orders, customers ...). */
export const Feed = z.strictObject({
  /** What the records are to the mapping: the document type (e.g. "sales-order"). */
  entityType: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be lower-case letters, digits or dashes, e.g. sales-order'),
  /** OData entity set or REST collection path, e.g. "A_SalesOrder" or "sales-orders". */
  entitySet: z.string().regex(/^[A-Za-z0-9_/-]{1,128}$/, 'must be an entity set or path such as SalesOrders'),
  key: field,
  modified: field,
  pageSize: z.number().int().min(1).max(5000).default(200),
});
export type Feed = z.infer<typeof Feed>;

const Auth = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('oauth2-client-credentials'), tokenUrl: httpUrl, scope: z.string().max(512).optional() }),
  z.strictObject({ kind: z.literal('basic') }),
  z.strictObject({ kind: z.literal('api-key'), header: z.string().regex(/^[A-Za-z0-9-]{1,64}$/).default('x-api-key') }),
  z.strictObject({ kind: z.literal('none') }),
]);

export const ErpConfig = z.strictObject({
  /** odata-v4 (Dynamics 365, S/4HANA v4), odata-v2 (SAP Gateway), rest (JSON or XML with cursor paging). */
  style: z.enum(['odata-v4', 'odata-v2', 'rest']),
  baseUrl: httpUrl,
  /** Response format asked for (Accept). OData v4 is JSON only. */
  format: z.enum(['json', 'xml']).default('json'),
  auth: Auth,
  feeds: z.array(Feed).max(20).default([]),
  /** Entity sets (or REST paths) used by lookups and actions. */
  entities: z
    .strictObject({ orders: z.string().default('SalesOrders'), customers: z.string().default('Customers'), inventory: z.string().default('Inventory') })
    .default({ orders: 'SalesOrders', customers: 'Customers', inventory: 'Inventory' }),
  /** Request budget shared by every hub process (Redis): the ERP never sees more than this from the hub. */
  budget: z
    .strictObject({
      requestsPerSecond: z.number().min(0.1).max(10_000).default(10),
      burst: z.number().int().min(1).max(10_000).optional(),
      concurrency: z.number().int().min(1).max(256).default(4),
      /** A slot held longer than this (crashed process) is given back. */
      leaseMs: z.number().int().min(1000).max(600_000).default(60_000),
      /** Longest wait for a slot before the request fails as retryable. */
      maxWaitMs: z.number().int().min(10).max(600_000).default(30_000),
    })
    .default({ requestsPerSecond: 10, concurrency: 4, leaseMs: 60_000, maxWaitMs: 30_000 }),
  timeoutMs: z.number().int().min(100).max(300_000).default(15_000),
  retries: z
    .strictObject({ attempts: z.number().int().min(0).max(10).default(4), initialDelayMs: z.number().int().min(1).max(60_000).default(250), maxDelayMs: z.number().int().min(1).max(600_000).default(30_000) })
    .default({ attempts: 4, initialDelayMs: 250, maxDelayMs: 30_000 }),
  /** Header carrying the action's idempotency key to the ERP. */
  idempotencyHeader: z.string().regex(/^[A-Za-z0-9-]{1,64}$/).default('Idempotency-Key'),
  poll: z
    .strictObject({
      /** Off: the instance serves lookups and actions only; its feeds are not read. */
      enabled: z.boolean().default(true),
      intervalMs: z.number().int().min(1000).max(86_400_000).default(60_000),
      maxRecordsPerRun: z.number().int().min(1).max(1_000_000).default(5000),
      /** Consecutive failed polls before INTEGRATION.CONNECTOR_DOWN. */
      downAfterFailures: z.number().int().min(1).max(1000).default(3),
    })
    .default({ enabled: true, intervalMs: 60_000, maxRecordsPerRun: 5000, downAfterFailures: 3 }),
  enrich: EnrichRules,
});
export type ErpConfig = z.infer<typeof ErpConfig>;

export const ErpSecrets = z.strictObject({
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  apiKey: z.string().min(8, 'must be at least 8 characters').optional(),
});
export type ErpSecrets = z.infer<typeof ErpSecrets>;
