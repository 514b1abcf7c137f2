import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import pg from 'pg';
import { sign, signingKey } from '../connectors/wms-webhook/standard-webhooks.js';
import { ErpSimulator } from '../connectors/erp-rest/simulator/erp-simulator.js';
import { seedSample } from '../connectors/erp-rest/simulator/sample-data.js';
import { ConfigError, loadConfig } from '../src/config/hub-config.js';
import { startHub } from '../src/hub.js';
import { Clock, ManualClock } from '../src/sla/clock.js';
import { ensureDatabase } from './ensure-database.js';
import { withLocalEnv } from './local-env.js';

/**
 * `npm run demo [-- --once]`: the showcase (README, "The showcase"). Starts the ERP simulator and a
 * hub in its own schema `demo` (recreated on every run), posts the WMS events of a pick shortfall on a
 * priority customer's order, and tells what the hub does, step by step, from the case's audit trail.
 * SLA time is moved forward (HUB_TEST_CLOCK) instead of waiting eight business hours.
 */
const ONCE = process.argv.includes('--once');
const SCHEMA = 'demo';
const say = (s: string) => console.log(s);

async function main() {
  const env = withLocalEnv(true);
  const sim = new ErpSimulator({ apiKey: 'local-erp-simulator-demo-key' });
  seedSample(sim);
  // The story: nothing of HX-2210 anywhere else, so the SLA window runs out.
  for (const site of ['SAC2', 'LAS1']) sim.data.upsert('Inventory', { ItemSite: `HX-2210@${site}`, Sku: 'HX-2210', Site: site, Available: 0 });
  const simUrl = await sim.start(0);

  // Connector instances: the sample WMS and the sample ERP, pointed at this simulator.
  const dir = mkdtempSync(path.join(tmpdir(), 'hub-demo-connectors-'));
  writeFileSync(path.join(dir, 'reno-wms.json'), readFileSync('config/connectors/reno-wms.json'));
  const erp = JSON.parse(readFileSync('config/connectors/erp.json', 'utf8'));
  erp.config.baseUrl = `${simUrl}/odata/v4`;
  writeFileSync(path.join(dir, 'erp.json'), JSON.stringify(erp));

  Object.assign(process.env, env, {
    HUB_DB_SCHEMA: SCHEMA, HUB_KEY_PREFIX: SCHEMA, HUB_CONNECTORS_DIR: dir, HUB_TEST_CLOCK: 'true', HUB_MIGRATE_ON_START: 'true',
    HUB_LOG_LEVEL: process.env.HUB_LOG_LEVEL ?? 'warn', HUB_SWEEP_INTERVAL_MS: '1000',
  });
  const cfg = loadConfig();
  await ensureDatabase(cfg.databaseUrl);
  await fresh(cfg.databaseUrl, cfg.redisUrl);
  const hub = await startHub(cfg);
  const clock = hub.app.get(Clock) as ManualClock;
  const base = `http://127.0.0.1:${cfg.port}`;
  const key = cfg.adminKey!;
  const call = async (method: string, p: string, body?: unknown) => {
    const r = await fetch(base + p, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return (await r.json()) as any;
  };
  const db = new pg.Pool({ connectionString: cfg.databaseUrl, max: 2, options: `-c search_path=${SCHEMA}` });
  const stop = async (code: number) => {
    await db.end().catch(() => undefined);
    await hub.close().catch(() => undefined);
    await sim.stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));

  say(`\nException Hub demo: a pick shortfall on a priority order (hub ${base}, ERP simulator ${simUrl}, schema "${SCHEMA}")\n`);
  say(`1. In the ERP, order SO-88123 of Summit Hospital Supply (C-1007, a priority account) is released: 48,250 USD, ship from RNO1.`);
  sim.data.upsert('SalesOrders', { OrderId: 'SO-88123', Status: 'Released', InvoiceHold: false });
  say(`2. The Reno WMS reports a pick shortfall: 4 of 10 EA of HX-2210 picked on order SO-88123 (it sends no customer tier).`);
  await postWms(base, env.HUB_DEMO_WMS_SECRET!, 'pick.shortfall');

  const id = await until(async () => (await db.query(`SELECT id FROM cases WHERE code = 'WAREHOUSE.PICK_SHORTFALL'`)).rows[0]?.id as string | undefined, 'the case');
  const narrator = new Narrator(db, id, base);
  const kase = await call('GET', `/v1/cases/${id}`);
  const { rows: ex } = await db.query(`SELECT customer_tier, payload FROM exceptions WHERE case_id = $1`, [id]);
  say(`   The ERP lookup says C-1007 is a "${ex[0].customer_tier}" customer and the order is "${ex[0].payload.attributes?.erpOrderStatus}".`);
  say(`   Case ${kase.number} opened: "${kase.title}", ${kase.severity}, owner ${kase.ownerTeam} [rule ${kase.routing.ruleId}, policy ${kase.routing.policy.id}@${kase.routing.policy.version}].`);
  say(`   ${base}/v1/cases/${id}  (dashboard: ${base}/dashboard, admin key in .hub/local.env)\n`);
  await narrator.until((a) => a.filter((x) => x.action === 'case.action.done').length >= 3);
  say(`   In the ERP simulator, order SO-88123 now has InvoiceHold=${sim.data.get('SalesOrders', 'SO-88123')?.InvoiceHold}.`);

  say(`\n3. Warehouse operations acknowledge the case.`);
  await call('POST', `/v1/cases/${id}/acknowledge`, { note: 'looking for stock' });
  await narrator.until((a) => a.some((x) => x.action === 'case.acknowledged'));

  const due = ((await call('GET', `/v1/cases/${id}/slas`)).items as any[]).find((c) => c.kind === 'resolve' && !c.taskId).dueAt as string;
  say(`\n4. No alternate stock turns up. The resolve window ends ${due} (business hours, America/Chicago); the demo moves the SLA clock there.`);
  clock.set(new Date(Date.parse(due) + 60_000));
  await ringAlarms(cfg.redisUrl);
  await narrator.until((a) => a.filter((x) => x.action === 'case.escalated' && x.after.at === 100 && !x.after.clock?.taskId).length >= 2);

  say(`\n5. Replenishment arrives and the WMS reports the shortfall cleared.`);
  await postWms(base, env.HUB_DEMO_WMS_SECRET!, 'pick.shortfall_cleared');
  await narrator.until((a) => a.some((x) => x.action === 'case.action.done' && x.after.action === 'erp.releaseInvoiceHold'));
  say(`   In the ERP simulator, order SO-88123 now has InvoiceHold=${sim.data.get('SalesOrders', 'SO-88123')?.InvoiceHold}.`);

  const h = (await call('GET', '/v1/reports/headline')).summary;
  say(`\n6. Reports (${base}/v1/reports/headline): ${h.exceptions} exceptions (${h.criticalExceptions} critical), ${h.casesOpened} case opened, ${h.casesResolved} resolved, SLA breach rate ${h.slaBreachRate}.`);
  say(`   The whole trail: ${base}/v1/cases/${id} and ${base}/v1/cases/${id}/actions; dashboard ${base}/dashboard.\n`);
  if (ONCE) return stop(0);
  say('The hub keeps running (all roles). Ctrl-C stops it.');
}

/** Prints each new audit entry of the case as a sentence. */
class Narrator {
  private seen = 0;
  constructor(private readonly db: pg.Pool, private readonly caseId: string, private readonly base: string) {}

  async until(done: (all: { action: string; after: any }[]) => boolean, timeoutMs = 30000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await this.db.query(`SELECT action, after FROM audit_events WHERE entity_type = 'case' AND entity_id = $1 ORDER BY id`, [this.caseId]);
      for (const r of rows.slice(this.seen)) {
        const line = sentence(r.action, r.after ?? {});
        if (line) say(`   - ${line}`);
      }
      this.seen = rows.length;
      if (done(rows)) return;
      if (Date.now() > end) throw new Error(`the demo waited ${timeoutMs} ms for the next step; see ${this.base}/v1/cases/${this.caseId}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function sentence(action: string, a: any): string | null {
  const by = (x: any) => (x?.rule ? ` [rule ${x.rule}${x.policy ? `, policy ${x.policy.id}@${x.policy.version}` : ''}]` : '');
  switch (action) {
    case 'case.task.opened':
      return `Task for ${a.team}: "${a.title}".`;
    case 'case.notified':
      return `${a.team} alerted: "${a.message}"${by(a)}.`;
    case 'case.action.done':
    case 'case.action.failed':
      return a.action === 'notify' ? null : `ERP action ${a.action} ${a.status}: ${a.summary}${by(a)}.`;
    case 'case.acknowledged':
      return `Acknowledged.`;
    case 'sla.warning':
      return `SLA warning: the ${a.clock?.taskId ? 'task' : a.clock?.kind} clock is at ${a.at} %.`;
    case 'sla.breached':
      return `SLA breached: the ${a.clock?.taskId ? 'task' : a.clock?.kind} clock passed its target${by(a.cause)}.`;
    case 'case.escalated':
      return `Escalated at ${a.at} % to ${a.to === 'team-lead' ? "the owner team's lead" : a.to}${by(a.cause)}.`;
    case 'case.resolved':
      return `Case resolved: ${a.resolutionNote ?? a.status}.`;
    default:
      return null;
  }
}

async function postWms(base: string, secret: string, type: 'pick.shortfall' | 'pick.shortfall_cleared') {
  const body = Buffer.from(JSON.stringify({
    type, occurredAt: new Date().toISOString(), warehouse: { site: 'RNO1', businessUnit: 'west' },
    order: { number: 'SO-88123', customer: 'C-1007', currency: 'USD' },
    line: type === 'pick.shortfall' ? { number: 1, sku: 'HX-2210', orderedQty: 10, pickedQty: 4, uom: 'EA', unitPrice: 12.5 } : { number: 1, sku: 'HX-2210' },
    ...(type === 'pick.shortfall' ? { reason: 'inventory consumed by another order' } : { resolution: 'replenishment received and picked' }),
  }));
  const id = `msg_${randomUUID()}`;
  const ts = String(Math.floor(Date.now() / 1000));
  const res = await fetch(`${base}/v1/webhooks/reno-wms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sign(signingKey(secret), id, ts, body)}` },
    body,
  });
  if (res.status !== 202) throw new Error(`POST /v1/webhooks/reno-wms answered ${res.status}: ${await res.text()}`);
}

/** A fresh story on every run: the demo schema and its Redis keys are dropped first. */
async function fresh(databaseUrl: string, redisUrl: string) {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await c.end();
  const { Redis } = await import('ioredis');
  const r = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${SCHEMA}:*`, 'COUNT', 1000);
    if (keys.length) await r.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  r.disconnect();
}

/** The SLA alarms are delayed BullMQ jobs: after moving the clock, ring them now. */
async function ringAlarms(redisUrl: string) {
  const u = new URL(redisUrl);
  const q = new Queue('sla-timers', { connection: { host: u.hostname, port: Number(u.port || 6379) }, prefix: SCHEMA });
  for (const j of await q.getDelayed()) await j.promote().catch(() => undefined);
  await q.close();
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

main().catch((e) => {
  console.error(`demo: ${e instanceof ConfigError ? '' : 'failed: '}${(e as Error).message}`);
  process.exit(e instanceof ConfigError ? 2 : 1);
});
