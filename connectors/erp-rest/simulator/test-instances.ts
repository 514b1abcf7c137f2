import { ErpConfig, ErpSecrets } from '../erp-config.js';
import type { ErpInstance } from '../erp-http.js';
import { REST_ROOT, V2_ROOT, V4_ROOT, type ErpSimulator } from './erp-simulator.js';

export type Style = 'odata-v4' | 'odata-v2' | 'rest';
export type AuthKind = 'oauth2-client-credentials' | 'basic' | 'api-key';

/** Instance config (as a user would declare it) pointing at a simulator, for tests, the benchmark and the demo. */
export function simulatorConfig(sim: { url: string }, style: Style, auth: AuthKind = 'oauth2-client-credentials', extra: Record<string, unknown> = {}) {
  const root = { 'odata-v4': V4_ROOT, 'odata-v2': V2_ROOT, rest: REST_ROOT }[style];
  const rest = style === 'rest';
  return {
    style,
    baseUrl: sim.url + root,
    auth: auth === 'oauth2-client-credentials' ? { kind: auth, tokenUrl: `${sim.url}/oauth/token` } : auth === 'api-key' ? { kind: auth, header: 'x-api-key' } : { kind: auth },
    feeds: [
      { entityType: 'sales-order', entitySet: rest ? 'sales-orders' : 'SalesOrders', key: 'OrderId', modified: 'ModifiedAt', pageSize: 10 },
      { entityType: 'customer', entitySet: rest ? 'customers' : 'Customers', key: 'CustomerId', modified: 'ModifiedAt', pageSize: 10 },
    ],
    entities: rest ? { orders: 'sales-orders', customers: 'customers', inventory: 'inventory' } : { orders: 'SalesOrders', customers: 'Customers', inventory: 'Inventory' },
    budget: { requestsPerSecond: 1000, concurrency: 16 },
    retries: { attempts: 4, initialDelayMs: 20, maxDelayMs: 200 },
    ...extra,
  };
}

export function simulatorSecrets(sim: ErpSimulator) {
  const c = sim.creds;
  return { clientId: c.clientId, clientSecret: c.clientSecret, username: c.username, password: c.password, apiKey: c.apiKey };
}

/** A resolved instance as the core would hand it to the connector (config validated, defaults applied). */
export function simulatorInstance(sim: ErpSimulator, style: Style, auth: AuthKind = 'oauth2-client-credentials', extra: Record<string, unknown> = {}, id = `erp-${style}`): ErpInstance {
  const config = ErpConfig.parse(simulatorConfig(sim, style, auth, extra));
  return { id, type: 'erp-rest', name: id, enabled: true, config: { ...config, system: 'sim-erp', mapping: 'erp-rest' }, secrets: ErpSecrets.parse(simulatorSecrets(sim)) };
}
