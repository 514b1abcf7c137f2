import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ErpSimulator } from '../../connectors/erp-rest/simulator/erp-simulator.js';
import type { BenchEvent } from './events.js';
import type { World } from './hub-process.js';

const TIERS = ['strategic', 'priority', 'standard', 'standard', 'standard'];

/**
 * `--erp`: the webhook benchmark with ERP enrichment on, as the sample config/connectors/erp.json
 * declares it (customer tier + credit, order value + status for every pick shortfall), against the
 * ERP simulator in this process, seeded with every customer and order the traffic names. The hub
 * caches lookups in Redis for the lookup's TTL (customer 5 min, order 1 min): the hit rate
 * depends on how often the traffic repeats a customer or an order within that time.
 */
export async function startBenchErp(world: World, events: BenchEvent[]): Promise<{ sim: ErpSimulator; stop: () => Promise<void> }> {
  const apiKey = `bench-erp-${world.tag}`;
  const sim = new ErpSimulator({ apiKey });
  const customers = new Set<string>();
  const orders = new Map<string, string>();
  for (const e of events) {
    const body = JSON.parse(e.body.toString('utf8'));
    const order = body?.order;
    if (order?.number && order?.customer) {
      customers.add(order.customer);
      orders.set(order.number, order.customer);
    }
  }
  let i = 0;
  for (const c of customers) {
    sim.data.upsert('Customers', { CustomerId: c, Name: `Customer ${c}`, Tier: TIERS[i++ % TIERS.length], CreditLimit: 100000, CreditUsed: (i * 7919) % 100000, Currency: 'USD' });
  }
  i = 0;
  for (const [o, c] of orders) {
    sim.data.upsert('SalesOrders', { OrderId: o, CustomerId: c, Status: 'Released', Site: 'RNO1', NetAmount: 100 + ((i++ * 104729) % 90000), Currency: 'USD', CreditBlock: false, PricingStatus: 'OK', InvoiceHold: false });
  }
  const url = await sim.start(0);
  writeFileSync(
    path.join(world.connectorsDir, 'bench-erp.json'),
    JSON.stringify({
      id: 'bench-erp',
      type: 'erp-rest',
      name: 'Benchmark ERP (simulator)',
      config: {
        system: 'erp',
        mapping: 'erp-rest',
        style: 'odata-v4',
        baseUrl: `${url}/odata/v4`,
        auth: { kind: 'api-key', header: 'x-api-key' },
        feeds: [{ entityType: 'sales-order', entitySet: 'SalesOrders', key: 'OrderId', modified: 'ModifiedAt', pageSize: 200 }],
        entities: { orders: 'SalesOrders', customers: 'Customers', inventory: 'Inventory' },
        // The budget must not be what limits the benchmark: the question is how often the ERP is asked at all.
        budget: { requestsPerSecond: 5000, concurrency: 32 },
        timeoutMs: 5000,
        poll: { enabled: false, intervalMs: 30000 },
        retries: { attempts: 1, initialDelayMs: 200, maxDelayMs: 2000 },
        enrich: [
          { codes: ['WAREHOUSE.PICK_SHORTFALL'], lookup: 'customer', key: { customer: 'references.customer' }, set: { customerTier: 'tier', 'attributes.creditAvailable': 'creditAvailable' }, timeoutMs: 800 },
          { codes: ['WAREHOUSE.PICK_SHORTFALL'], lookup: 'order', key: { order: 'references.order' }, set: { 'attributes.orderValue': 'value', 'attributes.erpOrderStatus': 'status' }, timeoutMs: 800 },
        ],
      },
      secrets: { apiKey: { $env: 'BENCH_ERP_KEY' } },
    }),
  );
  world.env.BENCH_ERP_KEY = apiKey;
  console.error(`ERP enrichment on: simulator at ${url} with ${customers.size} customers and ${orders.size} orders`);
  return { sim, stop: () => sim.stop() };
}

/** hub_enrichment_lookups_total by lookup and outcome, from a /metrics text. */
export function enrichmentCounts(metrics: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const m of metrics.matchAll(/^hub_enrichment_lookups_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    (out[labels.lookup] ??= {})[labels.outcome] = Number(m[2]);
  }
  return out;
}

/** Per lookup: hits, misses, failures and the hit rate over the measured phase (after − before). */
export function enrichmentReport(before: Record<string, Record<string, number>>, after: Record<string, Record<string, number>>, erpRequests: number) {
  const rows = Object.keys(after).sort().map((lookup) => {
    const d = (k: string) => (after[lookup]?.[k] ?? 0) - (before[lookup]?.[k] ?? 0);
    const hit = d('hit') + d('shared'); // shared: joined a lookup of the same key already in flight
    const miss = d('miss');
    const failed = d('error') + d('timeout') + d('skipped');
    return { lookup, hit, miss, failed, hitRate: hit + miss ? hit / (hit + miss) : null };
  });
  const lines = [
    '',
    '| lookup | served without the ERP (cache hit or joined an in-flight lookup) | misses (ERP asked) | failed / timed out / skipped | hit rate |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.lookup} | ${r.hit} | ${r.miss} | ${r.failed} | ${r.hitRate === null ? 'n/a' : `${(100 * r.hitRate).toFixed(1)} %`} |`),
    `ERP requests during the measured phase: ${erpRequests}`,
  ];
  return { rows, text: lines.join('\n') };
}
