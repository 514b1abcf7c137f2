import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sign, signingKey } from '../../connectors/wms-webhook/standard-webhooks.js';
import { prng } from './prng.js';

/** One webhook delivery, body prebuilt; `ts`/`sig` are filled in by signRange shortly before sending. */
export interface BenchEvent {
  id: string;
  body: Buffer;
  /** The correlation key the hub's mapping will derive: events sharing one share a case. */
  key: string;
  ts?: string;
  sig?: string;
}

const SITES = [
  ['RNO1', 'west'],
  ['DAL2', 'central'],
  ['ATL3', 'east'],
] as const;
const TIERS = ['priority', 'standard', 'standard', 'strategic', 'standard'];


/**
 * A realistic mix built from samples/wms: 50% pick shortfalls (case per order number),
 * 30% inventory variances (case per site+SKU), 20% damaged goods (case per PO). Pools are as large
 * as each event family, so about 63% of the events open a case and the rest join one.
 */
export function buildEvents(n: number, idPrefix: string, seed: number, samplesDir: string): BenchEvent[] {
  const sample = (f: string) => JSON.parse(readFileSync(path.join(samplesDir, f), 'utf8')) as Record<string, any>;
  const shortfall = sample('pick-shortfall.json');
  const variance = sample('inventory-variance.json');
  const damaged = sample('goods-damaged.json');
  const r = prng(seed);
  const pick = (k: number) => Math.floor(r() * k);
  const orders = Math.max(1, Math.round(n * 0.5));
  const skusPerSite = Math.max(1, Math.round((n * 0.3) / SITES.length));
  const pos = Math.max(1, Math.round(n * 0.2));
  const now = Date.now();
  const events: BenchEvent[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const [site, businessUnit] = SITES[pick(SITES.length)];
    const warehouse = { site, businessUnit };
    const occurredAt = new Date(now - pick(6 * 3600_000)).toISOString();
    const slot = i % 10;
    let ev: Record<string, unknown>;
    let key: string;
    if (slot < 5) {
      const order = `SO-${200000 + pick(orders)}`;
      const ordered = 10 + pick(60);
      ev = {
        ...shortfall,
        occurredAt,
        warehouse,
        order: { ...shortfall.order, number: order, customer: `C-${1000 + pick(900)}`, customerTier: TIERS[pick(TIERS.length)] },
        line: { ...shortfall.line, number: 1 + pick(25), sku: `SKU-${pick(20000)}`, orderedQty: ordered, pickedQty: pick(ordered), unitPrice: 1 + pick(9000) / 100 },
      };
      key = `order:${order}`;
    } else if (slot < 8) {
      const sku = `SKU-${pick(skusPerSite)}`;
      const expected = 20 + pick(400);
      ev = {
        ...variance,
        occurredAt,
        warehouse,
        item: { ...variance.item, sku, expectedQty: expected, countedQty: expected - 1 - pick(15), unitCost: 1 + pick(5000) / 100 },
        location: `A-${pick(40)}-${pick(20)}`,
        countId: `CC-${i}`,
      };
      key = `inventory:${site}:${sku}`;
    } else {
      const po = `PO-${500000 + pick(pos)}`;
      const received = 6 + pick(60);
      ev = {
        ...damaged,
        occurredAt,
        warehouse,
        item: { ...damaged.item, sku: `SKU-${pick(20000)}`, receivedQty: received, damagedQty: 1 + pick(5), unitCost: 5 + pick(20000) / 100 },
        receipt: { asn: `ASN-${300000 + i}`, po, supplier: `SUP-${pick(200)}` },
      };
      key = `po:${po}`;
    }
    events[i] = { id: `evt_${idPrefix}_${i}`, body: Buffer.from(JSON.stringify(ev)), key };
  }
  return events;
}

/** Signs events[from, to) with the current time; the hub accepts timestamps within 300 s. */
export function signRange(events: BenchEvent[], from: number, to: number, secret: string): void {
  const key = signingKey(secret);
  const ts = String(Math.floor(Date.now() / 1000));
  for (let i = from; i < Math.min(to, events.length); i++) {
    const e = events[i];
    e.ts = ts;
    e.sig = `v1,${sign(key, e.id, ts, e.body)}`;
  }
}
