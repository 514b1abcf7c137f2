import { completeDraft } from '../canonical/exception-draft.js';
import type { HubConfig } from '../config/hub-config.js';
import { Router } from './router.service.js';

const ctx = {
  system: 's', connectorId: 'c', connectorType: 'wms-webhook', messageId: '01a21cd0-0000-7000-8000-000000000001',
  documentType: 'd', testMode: false, receivedAt: new Date(), mapping: { id: 'm', version: '1.0.0' },
};
const exc = (draft: Record<string, unknown>) => {
  const r = completeDraft(draft, ctx);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.exception;
};

describe('Router with policies/default', () => {
  const router = new Router({ policiesDir: 'policies' } as HubConfig);
  beforeAll(() => router.load());

  const shortfall = (tier: string, amount = 10) =>
    exc({ code: 'WAREHOUSE.PICK_SHORTFALL', severity: 'standard', customerTier: tier, references: { order: 'SO-1', sku: 'A' }, quantities: { expected: 2, actual: 1, unit: 'EA' }, amountAtRisk: { amount, currency: 'USD' } });

  it('applies the first matching rule and explains why', () => {
    const d = router.decide(shortfall('priority'));
    expect(d).toMatchObject({ team: 'warehouse-ops', severity: 'critical', ruleId: 'priority-fulfilment-risk', opensCase: true, policy: { id: 'default', version: '1.1.0' } });
    expect(d.reason).toBe('rule priority-fulfilment-risk matched (code=WAREHOUSE.PICK_SHORTFALL, customerTier=priority); severity set to critical');
  });

  it('falls through to later rules in order', () => {
    expect(router.decide(shortfall('standard', 20000))).toMatchObject({ ruleId: 'large-amount-at-risk', severity: 'critical' });
    expect(router.decide(shortfall('standard'))).toMatchObject({ ruleId: 'warehouse', severity: 'standard' });
    expect(router.decide(exc({ code: 'ORDER.CREDIT_HOLD', references: { order: 'SO-2', customer: 'C' } }))).toMatchObject({ ruleId: 'credit-and-pricing', team: 'sales-ops' });
    expect(router.decide(exc({ code: 'ORDER.RELEASE_BLOCKED', references: { order: 'SO-2' } }))).toMatchObject({ ruleId: 'order-release', team: 'customer-service' });
  });

  it('records info-tier exceptions without opening a case', () => {
    const d = router.decide(exc({ code: 'INTEGRATION.EDI_DUPLICATE' }));
    expect(d).toMatchObject({ team: 'integration-support', severity: 'info', opensCase: false });
  });
});
