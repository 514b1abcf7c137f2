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

export function erpActions(http: () => ErpHttp): Record<string, ConnectorAction<ErpConfig, ErpSecrets>> {
  const write = async (inst: ErpInstance, req: ActionRequest, method: 'POST' | 'DELETE', action: string, body: unknown) =>
    http().call(inst, { method, path: entityPath(inst, inst.config.entities.orders, String(req.params.order), action), body, headers: { [inst.config.idempotencyHeader]: req.idempotencyKey } });
  return {
    placeInvoiceHold: {
      description: 'Place an invoice hold on an order (params: order, reason)',
      paramsSchema: z.object({ order: OrderRef, reason: z.string().max(500).default('Fulfilment risk under review') }),
      async run(inst, req) {
        try {
          const res = await write(inst, req, 'POST', 'InvoiceHold', { Reason: req.params.reason, RequestedBy: 'exception-hub', CaseId: req.caseId });
          return { status: 'done', summary: `invoice hold placed on order ${req.params.order}`, response: res.body };
        } catch (e) {
          // The state we wanted already holds (someone placed the hold): done, not a failure to retry.
          if (e instanceof ErpHttpError && e.status === 409) return { status: 'done', summary: `order ${req.params.order} already had an invoice hold`, response: e.body };
          return failed(e, `invoice hold on order ${req.params.order}`);
        }
      },
    },
    releaseInvoiceHold: {
      description: 'Release the invoice hold on an order (params: order)',
      paramsSchema: z.object({ order: OrderRef }),
      async run(inst, req) {
        try {
          const res = await write(inst, req, 'DELETE', 'InvoiceHold', undefined);
          return { status: 'done', summary: `invoice hold released on order ${req.params.order}`, response: res.body };
        } catch (e) {
          if (e instanceof ErpHttpError && e.status === 409) return { status: 'done', summary: `order ${req.params.order} had no invoice hold`, response: e.body };
          return failed(e, `releasing the invoice hold on order ${req.params.order}`);
        }
      },
    },
    // Pausing a downstream process: the order's fulfilment (release to the warehouse, picking, shipping)
    // stops in the ERP while the case is open; a rule pairs it with resumeFulfilment `on: resolve`.
    pauseFulfilment: {
      description: 'Pause the fulfilment of an order: a fulfilment hold in the ERP stops its release, picking and shipping (params: order, reason)',
      paramsSchema: z.object({ order: OrderRef, reason: z.string().max(500).default('Exception under review') }),
      async run(inst, req) {
        try {
          const res = await write(inst, req, 'POST', 'FulfilmentHold', { Reason: req.params.reason, RequestedBy: 'exception-hub', CaseId: req.caseId });
          return { status: 'done', summary: `fulfilment of order ${req.params.order} paused`, response: res.body };
        } catch (e) {
          // Already paused (by someone, or an earlier attempt under another key): the state asked for holds.
          if (e instanceof ErpHttpError && e.status === 409) return { status: 'done', summary: `fulfilment of order ${req.params.order} was already paused`, response: e.body };
          return failed(e, `pausing the fulfilment of order ${req.params.order}`);
        }
      },
    },
    resumeFulfilment: {
      description: 'Resume the fulfilment of an order paused by pauseFulfilment: removes the fulfilment hold (params: order)',
      paramsSchema: z.object({ order: OrderRef }),
      async run(inst, req) {
        try {
          const res = await write(inst, req, 'DELETE', 'FulfilmentHold', undefined);
          return { status: 'done', summary: `fulfilment of order ${req.params.order} resumed`, response: res.body };
        } catch (e) {
          if (e instanceof ErpHttpError && e.status === 409) return { status: 'done', summary: `fulfilment of order ${req.params.order} was not paused`, response: e.body };
          return failed(e, `resuming the fulfilment of order ${req.params.order}`);
        }
      },
    },
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
