import { readFileSync } from 'node:fs';
import { idempotencyKey } from '../actions/case-actions.service.js';
import { RoutingPolicySchema } from './routing-policy.js';

const base = () => JSON.parse(readFileSync('policies/default/2.2.0/policy.json', 'utf8'));
const rule = (p: any) => p.rules.find((r: any) => r.id === 'priority-fulfilment-risk');
const check = (actions: unknown[]) => {
  const p = base();
  rule(p).then.actions = actions;
  const r = RoutingPolicySchema.safeParse(p);
  return r.success ? 'ok' : `${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`;
};
const notify = (team: string, message = 'Shortfall on {{references.order}}') => ({ action: 'notify', params: { team, message } });

describe('actions of one rule', () => {
  it('may be of the same type with different params, or the same action on open and on resolve', () => {
    expect(check([notify('customer-service'), notify('warehouse-ops')])).toBe('ok');
    expect(check([notify('customer-service'), { ...notify('customer-service'), on: 'resolve' }])).toBe('ok');
  });

  it('refuses an action given twice, whatever the order of its params, naming both places', () => {
    expect(check([notify('customer-service'), notify('warehouse-ops'), notify('customer-service')])).toBe(
      'rules.5.then.actions.2: duplicate action: same notify (on open, same params) as actions[0]; a rule runs each action once per case, so give it once',
    );
    const http = { action: 'http', params: { url: 'http://127.0.0.1:9/x', body: { a: 1, b: { c: 2, d: 3 } } } };
    const reordered = { params: { body: { b: { d: 3, c: 2 }, a: 1 }, url: 'http://127.0.0.1:9/x' }, action: 'http', on: 'open' };
    expect(check([http, reordered])).toMatch(/^rules.5.then.actions.1: duplicate action: same http/);
  });
});

describe('action idempotency keys', () => {
  const caseId = '01a21cd0-0000-7000-8000-000000000001';
  it('differ for two actions of the same type in one rule and are stable across param order and list order', () => {
    const a = idempotencyKey(caseId, 'r1', { ...notify('customer-service'), on: 'open' });
    const b = idempotencyKey(caseId, 'r1', { ...notify('warehouse-ops'), on: 'open' });
    expect(a).toMatch(new RegExp(`^${caseId}:notify:r1:[0-9a-f]{16}$`));
    expect(b).not.toBe(a);
    expect(idempotencyKey(caseId, 'r1', { action: 'notify', on: 'open', params: { message: 'Shortfall on {{references.order}}', team: 'customer-service' } })).toBe(a);
    expect(idempotencyKey(caseId, 'r1', { ...notify('customer-service'), on: 'resolve' })).not.toBe(a);
    expect(idempotencyKey(caseId, 'r2', { ...notify('customer-service'), on: 'open' })).not.toBe(a);
  });
});
