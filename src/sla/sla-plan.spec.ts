import { readFileSync } from 'node:fs';
import { RoutingPolicySchema } from '../routing/routing-policy.js';
import { calendarsOf } from './business-calendar.js';
import { planClocks, slaFor, thresholdsOf } from './sla-plan.js';

const policy = RoutingPolicySchema.parse(JSON.parse(readFileSync('policies/default/1.1.0/policy.json', 'utf8')));
const cal = calendarsOf(policy.calendars).get('us-central-business')!;
const sla = slaFor(policy, 'fulfilment-risk', 'critical')!;
const monday9 = new Date('2026-12-07T15:00:00Z'); // 09:00 America/Chicago
const H = 3600_000;

describe('SLA plans from policy default@1.1.0', () => {
  it('chooses targets by business impact: first matching condition, else the default', () => {
    const plan = (impact: any) => Object.fromEntries(planClocks(sla, cal, impact, monday9).map((p) => [p.kind, p.targetMs / 60_000]));
    expect(plan({ severity: 'critical', customerTier: 'strategic' })).toEqual({ acknowledge: 15, resolve: 240 });
    expect(plan({ severity: 'critical', customerTier: 'priority' })).toEqual({ acknowledge: 30, resolve: 480 });
    expect(plan({ severity: 'critical', customerTier: 'priority', amountAtRisk: 12000 })).toEqual({ acknowledge: 30, resolve: 240 });
    expect(plan({ severity: 'standard' })).toEqual({ acknowledge: 60, resolve: 480 });
  });

  it('takes the resolve target from the requested ship date in the attributes, minus the margin', () => {
    // Ship Tuesday 12:00 CST, 2 h margin → due Tuesday 10:00 CST: 9 h on Monday (09:00–18:00) + 3 h on Tuesday.
    const [, resolve] = planClocks(sla, cal, { severity: 'critical', attributes: { requestedShipDate: '2026-12-08T12:00:00-06:00' } }, monday9);
    expect(resolve.targetMs).toBe(12 * H);
    expect(resolve.basis).toMatch(/requestedShipDate 2026-12-08T12:00:00-06:00 minus 2h/);
    // The margin is business time: ship Tuesday 08:00 CST leaves 10 business hours (9 on Monday, 1 on
    // Tuesday from 07:00); 2 business hours less is 8 h, due Monday 17:00. (Two wall-clock hours before
    // the ship date, Tuesday 06:00, would leave 9 h.)
    const [, early] = planClocks(sla, cal, { severity: 'critical', attributes: { requestedShipDate: '2026-12-08T08:00:00-06:00' } }, monday9);
    expect(early.targetMs).toBe(8 * H);
    expect(cal.add(monday9, early.targetMs).toISOString()).toBe('2026-12-07T23:00:00.000Z');
    expect(early.basis).toMatch(/minus 2h of business time: 8h of business time left/);
    // Not a date: the impact targets apply.
    const [, fallback] = planClocks(sla, cal, { severity: 'critical', attributes: { requestedShipDate: 'soon' } }, monday9);
    expect(fallback.targetMs).toBe(8 * H);
    // Already past: no time left, every threshold is due at once.
    const [, past] = planClocks(sla, cal, { severity: 'critical', attributes: { requestedShipDate: '2026-12-01' } }, monday9);
    expect(past.targetMs).toBe(0);
  });

  it('chooses a target by order value', () => {
    const byValue = RoutingPolicySchema.parse({
      ...policy,
      slas: [{ id: 'big-orders', clocks: [{ kind: 'resolve', target: 'PT8H', targets: [{ when: { minOrderValue: 50000 }, target: 'PT2H' }] }] }],
      rules: [],
    }).slas[0];
    const resolve = (impact: any) => planClocks(byValue, cal, impact, monday9)[0];
    expect(resolve({ severity: 'standard', orderValue: 60000 })).toMatchObject({ targetMs: 2 * H, basis: 'order value >= 50000: 2h' });
    expect(resolve({ severity: 'standard', orderValue: 49999 }).targetMs).toBe(8 * H);
    expect(resolve({ severity: 'standard' }).targetMs).toBe(8 * H);
  });

  it('uses the severity default when the rule names no SLA', () => {
    expect(slaFor(policy, null, 'critical')?.id).toBe('critical');
    expect(slaFor(policy, null, 'standard')?.id).toBe('standard');
    expect(slaFor(policy, null, 'info')).toBeNull();
  });

  it('orders warnings, breach and escalations; teams at the same point share a level', () => {
    expect(thresholdsOf(sla).map((t) => `${t.kind}@${t.at}${t.to ? `>${t.to}#${t.level}` : ''}`)).toEqual([
      'warning@50', 'escalation@50>team-lead#1', 'warning@75', 'breach@100', 'escalation@100>sales-ops#2', 'escalation@100>procurement#2', 'escalation@150>operations-control#3',
    ]);
  });

  it('refuses policies whose rule outputs do not add up, naming the place', () => {
    const bad = (edit: (p: any) => void) => {
      const p = JSON.parse(readFileSync('policies/default/1.1.0/policy.json', 'utf8'));
      edit(p);
      const r = RoutingPolicySchema.safeParse(p);
      return r.success ? 'ok' : `${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`;
    };
    expect(bad(() => undefined)).toBe('ok');
    expect(bad((p) => (p.rules[0].then.sla = 'nope'))).toBe('rules.0.then.sla: SLA nope is not declared in slas');
    expect(bad((p) => (p.slas[0].calendar = 'mars'))).toBe('slas.0.calendar: calendar mars is not declared in calendars');
    expect(bad((p) => (p.slas[0].escalations[1].to = 'finance'))).toBe('slas.0.escalations.1.to: finance is neither "team-lead" nor a declared team');
    expect(bad((p) => (p.slas[0].clocks[0].target = 'P1D'))).toMatch(/^slas.0.clocks.0.target: must be an ISO-8601 time duration/);
    expect(bad((p) => (p.rules[0].then.tasks[0].team = 'nobody'))).toBe('rules.0.then.tasks.0.team: team nobody is not declared in teams');
    expect(bad((p) => (p.rules[0].then.actions[0] = { action: 'http', params: { url: 'ftp://x' } }))).toMatch(/^rules.0.then.actions.0.params.url: /);
    expect(bad((p) => (p.rules[0].then.actions[0] = { action: 'delete everything' }))).toMatch(/must be notify, http or <connectorId>.<action>/);
    expect(bad((p) => (p.rules[0].then.tasks[0].extra = 1))).toMatch(/Unrecognized key/);
  });
});
