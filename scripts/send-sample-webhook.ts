import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { sign, signingKey } from '../connectors/wms-webhook/standard-webhooks.js';
import { withLocalEnv } from './local-env.js';

/**
 * `npm run sample:webhook [-- file.json [connectorId]]`: signs a sample WMS event with the
 * connector's secret (HUB_DEMO_WMS_SECRET) and posts it to the running hub, as a WMS would.
 */
async function main() {
  const env = withLocalEnv(false);
  const file = process.argv[2] ?? 'samples/wms/pick-shortfall.json';
  const connector = process.argv[3] ?? 'reno-wms';
  const base = env.HUB_URL ?? `http://127.0.0.1:${env.PORT ?? 3000}`;
  const secret = env.HUB_DEMO_WMS_SECRET;
  if (!secret) throw new Error('HUB_DEMO_WMS_SECRET is not set and .hub/local.env is missing: start the hub with `npm start` first');
  const body = Buffer.from(JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), occurredAt: new Date().toISOString() }));
  const id = `msg_${randomUUID()}`;
  const ts = String(Math.floor(Date.now() / 1000));
  const res = await fetch(`${base}/v1/webhooks/${connector}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': ts,
      'webhook-signature': `v1,${sign(signingKey(secret), id, ts, body)}`,
    },
    body,
  });
  console.log(`POST ${base}/v1/webhooks/${connector} → ${res.status} ${await res.text()}`);
}

main().catch((e) => {
  console.error(`sample:webhook: ${(e as Error).message}`);
  process.exit(1);
});
