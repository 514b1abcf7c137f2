import { completeDraft } from '../canonical/exception-draft.js';
import { ConfigError, type HubConfig } from '../config/hub-config.js';
import { mkdtempSync, mkdirSync, writeFileSync, cpSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PolicyEngine, Router } from './router.service.js';
import { OverlayRefused, applyOverlay } from './policy-overlay.js';
import type { Logger } from 'pino';
import type { ActiveArtifacts } from '../mapping/active-artifacts.service.js';
import { PolicyOverlaySchema, RoutingPolicySchema, type PolicyOverlay, type RoutingPolicy } from './routing-policy.js';

const ctx = {
  system: 's', connectorId: 'c', connectorType: 'wms-webhook', messageId: '01a21cd0-0000-7000-8000-000000000001',
  documentType: 'd', testMode: false, receivedAt: new Date(), mapping: { id: 'm', version: '1.0.0' },
};
const exc = (draft: Record<string, unknown>) => {
  const r = completeDraft(draft, ctx);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.exception;
};
const shortfall = (tier: string, amount = 10, extra: Record<string, unknown> = {}) =>
  exc({ code: 'WAREHOUSE.PICK_SHORTFALL', severity: 'standard', customerTier: tier, site: 'RNO1', businessUnit: 'west', references: { order: 'SO-1', sku: 'A' }, quantities: { expected: 2, actual: 1, unit: 'EA' }, amountAtRisk: { amount, currency: 'USD' }, ...extra });

describe('Router with policies/ (enterprise policy default@2.3.0, overlays site-dal2 and bu-returns)', () => {
  const router = new Router({ policiesDir: 'policies' } as HubConfig);
  beforeAll(() => router.load());

  it('applies the first matching rule and explains which conditions held', async () => {
    const d = await router.decide(shortfall('priority'));
    expect(d).toMatchObject({ team: 'warehouse-ops', severity: 'critical', ruleId: 'priority-fulfilment-risk', opensCase: true, policy: { id: 'default', version: '2.3.0' } });
    expect(d.reason).toBe('rule priority-fulfilment-risk matched (code=WAREHOUSE.PICK_SHORTFALL, customerTier=priority); severity set to critical');
    expect(d.explanation.conditions).toEqual(['code=WAREHOUSE.PICK_SHORTFALL', 'customerTier=priority']);
  });

  it('falls through to later rules in order, and notes rules skipped for team scope', async () => {
    expect(await router.decide(shortfall('standard', 20000))).toMatchObject({ ruleId: 'large-amount-at-risk', severity: 'critical' });
    const d = await router.decide(shortfall('standard'));
    expect(d).toMatchObject({ ruleId: 'warehouse', severity: 'standard', team: 'warehouse-ops' });
    expect(d.explanation.skipped).toEqual([{ ruleId: 'east-warehouse', why: 'team east-warehouse-ops only covers business units east (exception business unit west)' }]);
    expect(await router.decide(shortfall('standard', 10, { businessUnit: 'east' }))).toMatchObject({ ruleId: 'east-warehouse', team: 'east-warehouse-ops' });
    expect(await router.decide(exc({ code: 'ORDER.CREDIT_HOLD', references: { order: 'SO-2', customer: 'C' } }))).toMatchObject({ ruleId: 'credit-and-pricing', team: 'sales-ops' });
    expect(await router.decide(exc({ code: 'ORDER.RELEASE_BLOCKED', references: { order: 'SO-2' } }))).toMatchObject({ ruleId: 'order-release', team: 'customer-service' });
  });

  it('tests enrichment: compliance flags, supplier, inventory criticality, order value with a JSONata expression', async () => {
    const flagged = await router.decide(shortfall('standard', 10, { complianceFlags: ['export-control', 'hazmat'] }));
    expect(flagged).toMatchObject({ ruleId: 'regulated-goods', team: 'quality-compliance', severity: 'critical' });
    expect(flagged.explanation.conditions).toEqual(['complianceFlags include hazmat']);
    // On an order the ERP knows: its fulfilment is paused in the ERP, and resumed when the case resolves.
    const onErpOrder = await router.decide(shortfall('standard', 10, { complianceFlags: ['hazmat'], attributes: { erpOrderStatus: 'Released' } }));
    expect(onErpOrder).toMatchObject({ ruleId: 'regulated-goods-order', team: 'quality-compliance', severity: 'critical' });
    expect(onErpOrder.actions.map((a) => `${a.action}@${a.on}`)).toEqual(['erp.pauseFulfilment@open', 'notify@open', 'erp.resumeFulfilment@resolve']);
    const damaged = exc({ code: 'WAREHOUSE.DAMAGED_GOODS', references: { sku: 'S', supplier: 'SUP-ACME' }, quantities: { expected: 5, actual: 3, unit: 'EA' } });
    expect(await router.decide(damaged)).toMatchObject({ ruleId: 'supplier-quality', team: 'procurement' });
    const variance = exc({ code: 'WAREHOUSE.INVENTORY_VARIANCE', severity: 'info', inventoryCriticality: 'A', references: { sku: 'S' }, quantities: { expected: 5, actual: 4, unit: 'EA' } });
    expect(await router.decide(variance)).toMatchObject({ ruleId: 'critical-stock-variance', severity: 'standard' });

    const big = await router.decide(shortfall('standard', 15000, { orderValue: { amount: 60000, currency: 'USD' } }));
    expect(big).toMatchObject({ ruleId: 'large-order-short', team: 'key-accounts' });
    expect(big.explanation.conditions).toEqual(['code=WAREHOUSE.PICK_SHORTFALL', 'orderValue 60000 >= 50000', 'expression amountAtRisk.amount > orderValue.amount * 0.2 is true']);
    // Same order value, small share short: the expression is false, the next rule decides.
    expect(await router.decide(shortfall('standard', 11000, { orderValue: { amount: 60000, currency: 'USD' } }))).toMatchObject({ ruleId: 'large-amount-at-risk' });
  });

  it('applies the site overlay to its site only, with its allowed changes', async () => {
    const d = await router.decide(shortfall('standard', 10, { site: 'DAL2' }));
    expect(d).toMatchObject({ ruleId: 'warehouse', team: 'dal2-warehouse', policy: { id: 'default', version: '2.3.0', overlay: 'site-dal2@1.0.0' } });
    expect(d.reason).toContain('(overlay site-dal2@1.0.0)');
    // Not overridable: the priority rule keeps the enterprise team at DAL2 too.
    expect(await router.decide(shortfall('priority', 10, { site: 'DAL2' }))).toMatchObject({ ruleId: 'priority-fulfilment-risk', team: 'warehouse-ops' });
    expect(router.noiseFor(shortfall('standard', 10, { site: 'DAL2' })).repeatWindowSeconds).toBe(300);
    expect(router.noiseFor(shortfall('standard')).repeatWindowSeconds).toBe(900);
    // The bu-returns overlay: storm protection for one business unit only.
    expect(router.noiseFor(shortfall('standard', 10, { businessUnit: 'returns' })).stormPerMinute).toBe(20);
    expect(router.noiseFor(shortfall('standard')).stormPerMinute).toBe(0);
    expect(router.teamIds().has('dal2-warehouse')).toBe(true);
  });

  it('records info-tier exceptions without opening a case', async () => {
    expect(await router.decide(exc({ code: 'INTEGRATION.EDI_DUPLICATE' }))).toMatchObject({ team: 'integration-support', severity: 'info', opensCase: false });
  });
});

describe('JSONata rule conditions', () => {
  const policy = (expression: string, timeoutMs = 50) =>
    RoutingPolicySchema.parse({
      id: 'p', version: '1.0.0', teams: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }], expressionTimeoutMs: timeoutMs,
      rules: [{ id: 'expr', when: { expression }, then: { team: 'a' } }], fallback: { team: 'b' },
    });
  const e = shortfall('standard', 500);

  it('matches on a truthy result over the exception', async () => {
    expect(await PolicyEngine.build(policy("references.order = 'SO-1' and quantities.actual < quantities.expected"), []).decide(e)).toMatchObject({ ruleId: 'expr', team: 'a' });
    expect(await PolicyEngine.build(policy("$contains(title, 'never')"), []).decide(e)).toMatchObject({ ruleId: null, team: 'b' });
  });

  it('stops a runaway expression at its time limit; the rule does not match and the decision says why', async () => {
    // Nested small ranges: one flat multi-million range is built in a single uninterruptible call.
    const started = Date.now();
    const d = await PolicyEngine.build(policy('$count([1..3000].([1..3000].($string($)))) > 0', 20), []).decide(e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(d).toMatchObject({ ruleId: null, team: 'b' });
    expect(d.explanation.skipped[0]).toMatchObject({ ruleId: 'expr' });
    expect(d.explanation.skipped[0].why).toMatch(/exceeded 20 ms/);
  });

  it('refuses an expression that does not compile, naming the rule', () => {
    expect(() => PolicyEngine.build(policy('amountAtRisk.amount >'), [])).toThrow(/rules\.expr\.when\.expression: .* at position/);
  });
});

describe('overlays', () => {
  const enterprise = RoutingPolicySchema.parse({
    id: 'ent', version: '1.0.0', teams: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }],
    overridable: ['rules.local.then.team', 'noise.repeatWindowSeconds'],
    rules: [{ id: 'local', when: { category: ['WAREHOUSE'] }, then: { team: 'a' } }, { id: 'global', when: {}, then: { team: 'a', severity: 'critical' } }],
    fallback: { team: 'b' },
  });
  const overlay = (o: Record<string, unknown>) => PolicyOverlaySchema.parse({ id: 'o', version: '1.0.0', extends: 'ent', scope: { sites: ['X'] }, ...o });

  it('allows what is marked overridable', () => {
    const p = applyOverlay(enterprise, overlay({ set: { 'rules.local.then.team': 'b', 'noise.repeatWindowSeconds': 60 } }));
    expect(p.rules[0].then.team).toBe('b');
    expect(p.noise.repeatWindowSeconds).toBe(60);
    expect(enterprise.rules[0].then.team).toBe('a');
  });

  it.each([
    [{ set: { 'rules.global.then.severity': 'info' } }, 'overlay o@1.0.0 may not change rules.global.then.severity: ent@1.0.0 does not list it in "overridable"'],
    [{ set: { 'noise.stormPerMinute': 1 } }, 'overlay o@1.0.0 may not change noise.stormPerMinute: ent@1.0.0 does not list it in "overridable"'],
    [{ set: { overridable: ['rules'] } }, 'overlay o@1.0.0 may not change overridable: ent@1.0.0 does not list it in "overridable"'],
    [{ addRules: [{ id: 'x', when: {}, then: { team: 'a' } }] }, 'overlay o@1.0.0 may not add rules: "rules.add" is not overridable in ent'],
    [{ set: { 'rules.local.then.team': 'nobody' } }, 'overlay o@1.0.0 makes an invalid policy: rules.0.then.team: team nobody is not declared in teams'],
  ])('refuses %j', (o, message) => {
    expect(() => applyOverlay(enterprise, overlay(o))).toThrow(new OverlayRefused(message));
  });

  it('refuses at load with one ConfigError line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'policies-'));
    cpSync('policies/default', path.join(dir, 'default'), { recursive: true });
    mkdirSync(path.join(dir, 'site-bad', '1.0.0'), { recursive: true });
    writeFileSync(
      path.join(dir, 'site-bad', '1.0.0', 'policy.json'),
      JSON.stringify({ id: 'site-bad', version: '1.0.0', extends: 'default', scope: { sites: ['BAD'] }, set: { 'rules.priority-fulfilment-risk.then.team': 'logistics' } }),
    );
    const r = new Router({ policiesDir: dir } as HubConfig);
    const err = await r.load().catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(
      `HUB_POLICIES_DIR "${dir}": overlay site-bad@1.0.0 may not change rules.priority-fulfilment-risk.then.team: default@2.3.0 does not list it in "overridable"`,
    );
    expect(err.message).not.toContain('\n');
  });
});

describe('policy defaults and rule outputs', () => {
  const base = { id: 'p', version: '1.0.0', teams: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }, { id: 'c', name: 'C' }], fallback: { team: 'b' } };

  it('opens no case for info exceptions when the policy does not set caseMinSeverity', async () => {
    const p = RoutingPolicySchema.parse({ ...base, rules: [] });
    expect(p.caseMinSeverity).toBe('standard');
    const engine = PolicyEngine.build(p, []);
    expect(await engine.decide(exc({ code: 'INTEGRATION.EDI_DUPLICATE' }))).toMatchObject({ severity: 'info', opensCase: false });
    expect(await engine.decide(shortfall('standard'))).toMatchObject({ severity: 'standard', opensCase: true });
  });

  it('names extra teams on the decision and in its reason; they must be declared', async () => {
    const p = RoutingPolicySchema.parse({ ...base, rules: [{ id: 'short', when: { code: ['WAREHOUSE.PICK_SHORTFALL'] }, then: { team: 'a', extraTeams: ['c'] } }] });
    const d = await PolicyEngine.build(p, []).decide(shortfall('standard'));
    expect(d).toMatchObject({ team: 'a', extraTeams: ['c'], ruleId: 'short' });
    expect(d.reason).toBe('rule short matched (code=WAREHOUSE.PICK_SHORTFALL); extra teams c');
    expect((await PolicyEngine.build(p, []).decide(exc({ code: 'ORDER.CREDIT_HOLD', references: { order: 'SO-2', customer: 'C' } }))).extraTeams).toEqual([]);
    const bad = RoutingPolicySchema.safeParse({ ...base, rules: [{ id: 'short', when: {}, then: { team: 'a', extraTeams: ['nobody'] } }] });
    expect(bad.success || `${bad.error.issues[0].path.join('.')}: ${bad.error.issues[0].message}`).toBe('rules.0.then.extraTeams.0: team nobody is not declared in teams');
  });
});

describe('overlay rules and locked enterprise rules', () => {
  const enterprise = RoutingPolicySchema.parse({
    id: 'ent', version: '1.0.0', teams: [{ id: 'a', name: 'A' }, { id: 'b', name: 'B' }, { id: 'key-accounts', name: 'K' }],
    overridable: ['rules.warehouse.then.team', 'rules.add', 'teams.add'],
    rules: [
      { id: 'priority-short', when: { code: ['WAREHOUSE.PICK_SHORTFALL'], customerTier: ['priority'] }, then: { team: 'key-accounts', severity: 'critical' } },
      { id: 'warehouse', when: { category: ['WAREHOUSE'] }, then: { team: 'a' } },
    ],
    fallback: { team: 'b' },
  });
  const overlay = PolicyOverlaySchema.parse({
    id: 'site-x', version: '1.0.0', extends: 'ent', scope: { sites: ['RNO1'] },
    addTeams: [{ id: 'x-local', name: 'X local', sites: ['RNO1'] }],
    addRules: [{ id: 'x-shortfalls', when: { code: ['WAREHOUSE.PICK_SHORTFALL'] }, then: { team: 'x-local', severity: 'standard' } }],
  });
  const engine = PolicyEngine.build(enterprise, [overlay]);

  it('cannot pre-empt an enterprise rule whose team is not overridable', async () => {
    const d = await engine.decide(shortfall('priority'));
    expect(d).toMatchObject({ ruleId: 'priority-short', team: 'key-accounts', severity: 'critical', policy: { overlay: 'site-x@1.0.0' } });
    expect(d.explanation.skipped).toEqual([{ ruleId: 'x-shortfalls', why: 'overlay rule may not pre-empt enterprise rule priority-short (its team is not overridable)' }]);
  });

  it('still routes what the enterprise leaves to an overridable rule or the fallback', async () => {
    expect(await engine.decide(shortfall('standard'))).toMatchObject({ ruleId: 'x-shortfalls', team: 'x-local', severity: 'standard' });
    const fallbackOnly = PolicyOverlaySchema.parse({ ...overlay, addRules: [{ id: 'x-credit', when: { code: ['ORDER.CREDIT_HOLD'] }, then: { team: 'x-local' } }] });
    const credit = exc({ code: 'ORDER.CREDIT_HOLD', site: 'RNO1', references: { order: 'SO-2', customer: 'C' } });
    expect(await PolicyEngine.build(enterprise, [fallbackOnly]).decide(credit)).toMatchObject({ ruleId: 'x-credit', team: 'x-local' });
    // Elsewhere the enterprise policy alone decides.
    expect(await engine.decide(shortfall('standard', 10, { site: 'DAL2' }))).toMatchObject({ ruleId: 'warehouse', team: 'a' });
  });
});

describe('Router with activated versions that do not build together (another process activated them)', () => {
  const file = (f: string) => JSON.parse(readFileSync(f, 'utf8'));
  const dal2 = PolicyOverlaySchema.parse(file('policies/site-dal2/1.0.0/policy.json'));
  const shipped = RoutingPolicySchema.parse(file('policies/default/2.3.0/policy.json'));
  // 2.9.0 no longer lets overlays re-route warehouse work, which site-dal2 does: the pair does not build.
  const locked = { ...shipped, version: '2.9.0', overridable: shipped.overridable.filter((p) => p !== 'rules.warehouse.then.team') };
  const inForce: { enterprise: RoutingPolicy; overlays: PolicyOverlay[] } = { enterprise: locked, overlays: [dal2] };
  const active = {
    policy: (id: string) => (id === 'default' ? inForce.enterprise : inForce.overlays.find((o) => o.id === id)),
    policyIds: () => ['default', ...inForce.overlays.map((o) => o.id)],
    overlays: () => inForce.overlays,
  } as unknown as ActiveArtifacts;
  const errors: string[] = [];
  const log = { error: (_o: unknown, msg: string) => errors.push(msg) } as unknown as Logger;
  const router = new Router({ policiesDir: 'policies' } as HubConfig, active, log);
  beforeAll(() => router.load());
  const dal2Shortfall = () => shortfall('standard', 10, { site: 'DAL2' });

  it('keeps routing with the engine it has and logs one error line naming the overlay and the field, once', async () => {
    for (let i = 0; i < 3; i++) {
      expect(await router.decide(dal2Shortfall())).toMatchObject({ team: 'dal2-warehouse', policy: { id: 'default', version: '2.3.0', overlay: 'site-dal2@1.0.0' } });
    }
    expect(errors).toEqual([
      'routing policies in force (default@2.9.0,site-dal2@1.0.0) do not build, still routing with default@2.3.0,bu-returns@1.0.0,site-dal2@1.0.0: ' +
        'overlay site-dal2@1.0.0 may not change rules.warehouse.then.team: default@2.9.0 does not list it in "overridable"',
    ]);
  });

  it('takes the next combination in force that builds', async () => {
    inForce.enterprise = { ...shipped, version: '2.9.1' };
    expect(await router.decide(dal2Shortfall())).toMatchObject({ team: 'dal2-warehouse', policy: { id: 'default', version: '2.9.1', overlay: 'site-dal2@1.0.0' } });
    expect(errors).toHaveLength(1);
  });
});
