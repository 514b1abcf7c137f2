import { z } from 'zod';
import type { ActionOutcome, ActionRequest, ConnectorAction, ConnectorLookup } from '../../src/connectors/connector.js';
import type { ErpConfig, ErpSecrets } from './erp-config.js';
import { ErpHttpError, isNetworkError, type ErpHttp, type ErpInstance, type ErpRequest } from './erp-http.js';
import { BudgetExhausted } from './request-budget.js';
import { normalizeV2, type ErpRecord } from './delta-reader.js';

const REST_ACTIONS: Record<string, string> = { InvoiceHold: 'invoice-hold', FulfilmentHold: 'fulfilment-hold', Notes: 'notes' };

/** One entity (and optionally a bound action on it) in the instance's API style. */
function entityPath(inst: ErpInstance, set: string, key: string, action?: string): string {
  if (inst.config.style === 'rest') return `${set}/${encodeURIComponent(key)}${action ? '/' + REST_ACTIONS[action] : ''}`;
  return `${set}('${encodeURIComponent(key.replace(/'/g, "''"))}')${action ? '/' + action : ''}`;
}

/** A single entity from any style: v4 plain, v2 `{ d: {...} }`, REST JSON, REST XML `<record>`. */
function single(inst: ErpInstance, body: unknown): ErpRecord {
  const b = body as any;
  if (inst.config.style === 'odata-v2') return normalizeV2(b?.d ?? {});
  if (b?.record) return [b.record].flat()[0];
  return b ?? {};
}

async function getOne(http: ErpHttp, inst: ErpInstance, set: string, key: string, signal: AbortSignal): Promise<ErpRecord | null> {
  try {
    return single(inst, (await http.call(inst, { path: entityPath(inst, set, key), signal })).body);
  } catch (e) {
    if (e instanceof ErpHttpError && e.status === 404) return null;
    throw e;
  }
}

const num = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : Number(v));

export function erpLookups(http: () => ErpHttp): Record<string, ConnectorLookup<ErpConfig, ErpSecrets>> {
  return {
    customer: {
      description: 'Customer tier, credit limit and credit used, by references.customer (key: customer)',
      ttlMs: 5 * 60_000,
      async run(inst, key, signal) {
        const c = await getOne(http(), inst, inst.config.entities.customers, key.customer, signal);
        if (!c) return null;
        const limit = num(c.CreditLimit);
        const used = num(c.CreditUsed);
        return { tier: c.Tier, name: c.Name, creditLimit: limit, creditUsed: used, creditAvailable: limit !== undefined && used !== undefined ? limit - used : undefined, currency: c.Currency };
      },
    },
    order: {
      description: 'Order value, currency and status, by references.order (key: order)',
      ttlMs: 60_000,
      async run(inst, key, signal) {
        const o = await getOne(http(), inst, inst.config.entities.orders, key.order, signal);
        if (!o) return null;
        return { value: num(o.NetAmount), currency: o.Currency, status: o.Status, customer: o.CustomerId, invoiceHold: o.InvoiceHold === true || o.InvoiceHold === 'true' };
      },
    },
    alternateInventory: {
      description: 'Available stock of a SKU at other sites (key: sku, optional site to exclude)',
      ttlMs: 30_000,
      async run(inst, key, signal) {
        return alternateInventory(http(), inst, key.sku, key.site, signal);
      },
    },
  };
}

async function alternateInventory(http: ErpHttp, inst: ErpInstance, sku: string, exclude: string | undefined, signal?: AbortSignal) {
  const set = inst.config.entities.inventory;
  const req: ErpRequest =
    inst.config.style === 'rest'
      ? { path: set, query: { Sku: sku }, signal }
      : { path: set, query: { $filter: `Sku eq '${sku.replace(/'/g, "''")}' and Available gt 0`, ...(inst.config.style === 'odata-v2' && inst.config.format === 'json' ? { $format: 'json' } : {}) }, signal };
  const b = (await http.call(inst, req)).body as any;
  const rows: ErpRecord[] = b?.value ?? b?.d?.results ?? b?.data ?? [b?.response?.records?.record ?? []].flat();
  const sites = rows
    .map((r) => ({ site: String(r.Site), available: Number(r.Available) }))
    .filter((r) => r.available > 0 && r.site !== exclude)
    .sort((a, b) => b.available - a.available);
  return { sku, sites, totalAvailable: sites.reduce((s, r) => s + r.available, 0), bestSite: sites[0]?.site ?? null };
}

/** ERP errors as action outcomes: 5xx, 429, timeouts and budget waits may succeed later; 4xx will not. */
function failed(e: unknown, what: string): ActionOutcome {
  if (e instanceof ErpHttpError) return { status: 'failed', retryable: e.retryable, summary: `${what}: ${e.message}`, response: { status: e.status, body: e.body } };
  const retryable = e instanceof BudgetExhausted || (e as Error).name === 'TimeoutError' || isNetworkError(e);
  return { status: 'failed', retryable, summary: `${what}: ${(e as Error).message}` };
}

const OrderRef = z.string().trim().min(1).max(128);

type OrderWrite = (inst: ErpInstance, req: ActionRequest, method: 'POST' | 'DELETE', action: string, body: unknown) => Promise<{ body: unknown }>;

/** The words of a hold on an order (an invoice hold, a fulfilment hold) and of its release. */
interface HoldWords {
  /** The order's sub-resource: POST places the hold, DELETE lifts it. */
  entity: string;
  /** The name the hold action is registered under (its release undoes it). */
  placeAction: string;
  placeDescription: string;
  releaseDescription: string;
  defaultReason: string;
  placed: (order: string) => string;
  alreadyPlaced: (order: string) => string;
  placing: (order: string) => string;
  released: (order: string) => string;
  notHeld: (order: string) => string;
  releasing: (order: string) => string;
}

/**
 * A hold and its release, as two actions. A 409 means the state asked for already holds (the hold was
 * there, or was not): done, not a failure to retry. Whether the hold was ours is said only when it is
 * certain, i.e. when the ERP answered the very first request of the action (first attempt, no retry
 * inside ErpHttp): a 409 then means somebody else placed it, and a refusal (a 4xx that is not retried)
 * means nothing was placed; both are `changed: false`, so the case's release leaves the order as it was
 * (ActionRunner, `undoes`). After a request whose answer may have been lost, the hold may be our own, so
 * nothing is claimed and the release runs.
 */
function holdActions(write: OrderWrite, w: HoldWords): [ConnectorAction<ErpConfig, ErpSecrets>, ConnectorAction<ErpConfig, ErpSecrets>] {
  const order = (req: ActionRequest) => String(req.params.order);
  return [
    {
      description: w.placeDescription,
      paramsSchema: z.object({ order: OrderRef, reason: z.string().max(500).default(w.defaultReason) }),
      async run(inst, req) {
        try {
          const res = await write(inst, req, 'POST', w.entity, { Reason: req.params.reason, RequestedBy: 'exception-hub', CaseId: req.caseId });
          return { status: 'done', summary: w.placed(order(req)), response: res.body, changed: true };
        } catch (e) {
          const certain = e instanceof ErpHttpError && req.attempt === 1 && e.tries === 1;
          if (e instanceof ErpHttpError && e.status === 409) return { status: 'done', summary: w.alreadyPlaced(order(req)), response: e.body, ...(certain ? { changed: false } : {}) };
          const outcome = failed(e, w.placing(order(req)));
          return certain && outcome.retryable === false ? { ...outcome, changed: false } : outcome;
        }
      },
    },
    {
      description: w.releaseDescription,
      paramsSchema: z.object({ order: OrderRef }),
      undoes: w.placeAction,
      async run(inst, req) {
        try {
          const res = await write(inst, req, 'DELETE', w.entity, undefined);
          return { status: 'done', summary: w.released(order(req)), response: res.body };
        } catch (e) {
          if (e instanceof ErpHttpError && e.status === 409) return { status: 'done', summary: w.notHeld(order(req)), response: e.body };
          return failed(e, w.releasing(order(req)));
        }
      },
    },
  ];
}

export function erpActions(http: () => ErpHttp): Record<string, ConnectorAction<ErpConfig, ErpSecrets>> {
  const write: OrderWrite = async (inst, req, method, action, body) =>
    http().call(inst, { method, path: entityPath(inst, inst.config.entities.orders, String(req.params.order), action), body, headers: { [inst.config.idempotencyHeader]: req.idempotencyKey } });
  const [placeInvoiceHold, releaseInvoiceHold] = holdActions(write, {
    placeAction: 'placeInvoiceHold',
    entity: 'InvoiceHold',
    placeDescription: 'Place an invoice hold on an order (params: order, reason)',
    releaseDescription: 'Release the invoice hold on an order (params: order)',
    defaultReason: 'Fulfilment risk under review',
    placed: (o) => `invoice hold placed on order ${o}`,
    alreadyPlaced: (o) => `order ${o} already had an invoice hold`,
    placing: (o) => `invoice hold on order ${o}`,
    released: (o) => `invoice hold released on order ${o}`,
    notHeld: (o) => `order ${o} had no invoice hold`,
    releasing: (o) => `releasing the invoice hold on order ${o}`,
  });
  // Pausing a downstream process: the order's fulfilment (release to the warehouse, picking, shipping)
  // stops in the ERP while the case is open; a rule pairs it with resumeFulfilment `on: resolve`.
  const [pauseFulfilment, resumeFulfilment] = holdActions(write, {
    placeAction: 'pauseFulfilment',
    entity: 'FulfilmentHold',
    placeDescription: 'Pause the fulfilment of an order: a fulfilment hold in the ERP stops its release, picking and shipping (params: order, reason)',
    releaseDescription: 'Resume the fulfilment of an order paused by pauseFulfilment: removes the fulfilment hold (params: order)',
    defaultReason: 'Exception under review',
    placed: (o) => `fulfilment of order ${o} paused`,
    alreadyPlaced: (o) => `fulfilment of order ${o} was already paused`,
    placing: (o) => `pausing the fulfilment of order ${o}`,
    released: (o) => `fulfilment of order ${o} resumed`,
    notHeld: (o) => `fulfilment of order ${o} was not paused`,
    releasing: (o) => `resuming the fulfilment of order ${o}`,
  });
  return {
    placeInvoiceHold,
    releaseInvoiceHold,
    pauseFulfilment,
    resumeFulfilment,
    addOrderNote: {
      description: 'Add a note to an order (params: order, text)',
      paramsSchema: z.object({ order: OrderRef, text: z.string().min(1).max(2000) }),
      async run(inst, req) {
        try {
          const res = await write(inst, req, 'POST', 'Notes', { Text: req.params.text });
          return { status: 'done', summary: `note added to order ${req.params.order}`, response: res.body };
        } catch (e) {
          return failed(e, `note on order ${req.params.order}`);
        }
      },
    },
    queryAlternateInventory: {
      description: 'Find available stock of a SKU at other sites (params: sku, excludeSite)',
      paramsSchema: z.object({ sku: z.string().min(1).max(128), excludeSite: z.string().max(64).optional() }),
      async run(inst, req) {
        try {
          const found = await alternateInventory(http(), inst, String(req.params.sku), req.params.excludeSite as string | undefined);
          return { status: 'done', summary: found.sites.length ? `${found.totalAvailable} available at ${found.sites.map((s) => s.site).join(', ')}` : `no alternate stock of ${found.sku}`, response: found };
        } catch (e) {
          return failed(e, `alternate inventory for ${req.params.sku}`);
        }
      },
    },
  };
}
