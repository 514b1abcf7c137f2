import { SIMULATOR_DEFAULT_PORT, ErpSimulator } from '../connectors/erp-rest/simulator/erp-simulator.js';
import { seedSample } from '../connectors/erp-rest/simulator/sample-data.js';

/**
 * `npm run erp:simulator`: the ERP simulator on 127.0.0.1:4780 (ERP_SIM_PORT) with the sample
 * customers, orders and stock, for config/connectors/erp.json. Its API key is a fixed local demo
 * value (ERP_SIM_API_KEY overrides it); it is a fake ERP, not a credential for anything real.
 */
export const DEMO_ERP_API_KEY = 'local-erp-simulator-demo-key';

async function main() {
  const sim = new ErpSimulator({ apiKey: process.env.ERP_SIM_API_KEY ?? DEMO_ERP_API_KEY });
  seedSample(sim);
  const url = await sim.start(Number(process.env.ERP_SIM_PORT ?? SIMULATOR_DEFAULT_PORT));
  console.log(`ERP simulator at ${url}: OData v4 ${url}/odata/v4, OData v2 ${url}/sap/opu/odata/sap/ZHUB_SRV, REST ${url}/api/v1`);
  process.on('SIGINT', () => void sim.stop().then(() => process.exit(0)));
  process.on('SIGTERM', () => void sim.stop().then(() => process.exit(0)));
}

main().catch((e) => {
  console.error(`erp-simulator: ${(e as Error).message}`);
  process.exit(1);
});
