import jsonata from 'jsonata';
import { completeDraft } from '../src/canonical/exception-draft.js';
import type { CanonicalException } from '../src/canonical/exception.schema.js';

import { PolicyEngine } from '../src/routing/router.service.js';
import { RoutingPolicySchema, type RoutingPolicy } from '../src/routing/routing-policy.js';

/**
 * Routing decisions/s with a generated 200-rule policy (issue 5), in one process, no database:
 *   A  PolicyEngine.decide, declarative conditions only
 *   B  PolicyEngine.decide, every 4th rule also has a JSONata expression
 *   C  bare loop: the same declarative conditions as plain JS (Array.includes, comparisons), same first-match order
 *   D  bare loop: C plus the same JSONata expressions evaluated straight with the jsonata library (no guard, no timebox)
 *
 *   npm run bench:routing -- [--decisions=20000] [--rules=200]
 */
const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const DECISIONS = arg('decisions', 20000);
const RULES = arg('rules', 200);

let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];

const CODES = ['WAREHOUSE.PICK_SHORTFALL', 'WAREHOUSE.INVENTORY_VARIANCE', 'WAREHOUSE.DAMAGED_GOODS', 'ORDER.CREDIT_HOLD', 'LOGISTICS.SHIPMENT_DELAY'] as const;
const SITES = Array.from({ length: 40 }, (_, i) => `S${String(i).padStart(2, '0')}`);
const TIERS = ['standard', 'priority', 'strategic'];
const BUS = ['west', 'east', 'south', 'north'];

function policy(withExpressions: boolean): RoutingPolicy {
  const rules = Array.from({ length: RULES - 1 }, (_, i) => ({
    id: `r${i}`,
    when: {
      code: [pick(CODES)],
      site: [pick(SITES), pick(SITES)],
      ...(i % 3 === 0 ? { customerTier: [pick(TIERS)] } : {}),
      ...(i % 5 === 0 ? { minAmountAtRisk: Math.floor(rnd() * 500) } : {}),
      ...(withExpressions && i % 4 === 0 ? { expression: `amountAtRisk.amount > ${Math.floor(rnd() * 400)} and businessUnit in ["${pick(BUS)}", "${pick(BUS)}"]` } : {}),
    },
    then: { team: `t${i % 20}` },
  }));
  rules.push({ id: 'catch-all', when: {} as never, then: { team: 't0' } });
  return RoutingPolicySchema.parse({
    id: 'bench', version: '1.0.0', teams: Array.from({ length: 20 }, (_, i) => ({ id: `t${i}`, name: `Team ${i}` })), rules, fallback: { team: 't0' }, expressionTimeoutMs: 1000,
  });
}

function exceptions(n: number): CanonicalException[] {
  const ctx = { system: 'b', connectorId: 'bench', connectorType: 'wms-webhook', messageId: '01a21cd0-0000-7000-8000-000000000001', documentType: 'd', testMode: false, receivedAt: new Date(), mapping: { id: 'm', version: '1' } };
  return Array.from({ length: n }, (_, i) => {
    const code = pick(CODES);
    const r = completeDraft({
      code, site: pick(SITES), businessUnit: pick(BUS), customerTier: pick(TIERS),
      references: { order: `SO-${i}`, customer: 'C', sku: 'S', shipment: `SH-${i}` },
      quantities: { expected: 5, actual: 2, unit: 'EA' }, amountAtRisk: { amount: Math.floor(rnd() * 1000), currency: 'USD' },
    }, ctx);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    return r.exception;
  });
}

async function time(label: string, run: (e: CanonicalException) => Promise<string | null> | string | null, sample: CanonicalException[]) {
  for (let i = 0; i < Math.min(500, DECISIONS); i++) await run(sample[i % sample.length]); // warm-up
  const rules = new Map<string | null, number>();
  const t = process.hrtime.bigint();
  for (let i = 0; i < DECISIONS; i++) {
    const r = await run(sample[i % sample.length]);
    rules.set(r, (rules.get(r) ?? 0) + 1);
  }
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  return { label, decisions: DECISIONS, seconds: +s.toFixed(3), perSecond: Math.round(DECISIONS / s), usPerDecision: +((s * 1e6) / DECISIONS).toFixed(1), catchAll: rules.get('catch-all') ?? 0 };
}

async function main() {
  const sample = exceptions(2000);
  const plain = policy(false);
  seed = 42;
  const withExpr = policy(true);
  const engineA = PolicyEngine.build(plain, []);
  const engineB = PolicyEngine.build(withExpr, []);
  const compiled = withExpr.rules.map((r) => ({ rule: r, expr: r.when.expression ? jsonata(r.when.expression) : null }));

  // Only the condition kinds the generated rules use, written out by hand.
  const bareHolds = (r: RoutingPolicy['rules'][number], e: CanonicalException) => {
    const w = r.when;
    if (w.code && !w.code.includes(e.code)) return false;
    if (w.site && !(e.site && w.site.includes(e.site))) return false;
    if (w.customerTier && !(e.customerTier && w.customerTier.includes(e.customerTier))) return false;
    if (w.minAmountAtRisk !== undefined && !((e.amountAtRisk?.amount ?? -1) >= w.minAmountAtRisk)) return false;
    return true;
  };
  const bareDeclarative = (p: RoutingPolicy) => (e: CanonicalException) => {
    for (const r of p.rules) if (bareHolds(r, e)) return r.id;
    return null;
  };
  const bareWithJsonata = async (e: CanonicalException) => {
    for (const c of compiled) {
      if (!bareHolds(c.rule, e)) continue;
      if (c.expr && !(await c.expr.evaluate(e))) continue;
      return c.rule.id;
    }
    return null;
  };

  const results = [
    await time('A  engine, declarative only', async (e) => (await engineA.decide(e)).ruleId, sample),
    await time('C  bare loop, declarative only', bareDeclarative(plain), sample),
    await time('B  engine, declarative + JSONata (1 in 4 rules)', async (e) => (await engineB.decide(e)).ruleId, sample),
    await time('D  bare loop + bare jsonata, same conditions', bareWithJsonata, sample),
  ];
  // Same decisions from engine and bare loops (checked on the whole sample).
  for (const e of sample.slice(0, 500)) {
    const [a, b, c, d] = [(await engineA.decide(e)).ruleId, (await engineB.decide(e)).ruleId, bareDeclarative(plain)(e), await bareWithJsonata(e)];
    if (a !== c || b !== d) throw new Error(`engine and bare loop disagree on ${e.references.order}: ${a}/${c} ${b}/${d}`);
  }
  console.log(`routing bench: ${RULES} rules, ${DECISIONS} decisions per variant, ${sample.length} distinct exceptions, node ${process.version}`);
  console.table(results);
  console.log(`engine/bare ratio: declarative ${(results[0].perSecond / results[1].perSecond).toFixed(3)}, with JSONata ${(results[2].perSecond / results[3].perSecond).toFixed(3)}`);
  console.log(JSON.stringify({ bench: 'routing', rules: RULES, results }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
