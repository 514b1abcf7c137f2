import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AuditEvent } from '../audit/audit-event.entity.js';
import { notifiedRecords, settledRecords } from '../actions/action-records.js';
import { CASE_AUDIT_ACTIONS, sentence } from './case-sentences.js';

const entry = (action: string, after: Record<string, unknown>, before: Record<string, unknown> | null = null, actor: 'system' | 'api-key' = 'system') =>
  ({ action, after, before, actorType: actor, actorId: actor === 'system' ? 'hub' : 'ops-lead', occurredAt: new Date() }) as unknown as AuditEvent;

/** Every `'case.…'` / `'sla.…'` action literal in src (not specs): what can appear in a case's audit trail. */
function actionsWrittenInSrc(): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.spec.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/['"`]((?:case|sla)\.[a-z][a-z.-]*)['"`]/g)) found.add(m[1]);
    }
  };
  walk('src');
  return [...found].sort();
}

describe('case timeline sentences', () => {
  it('knows every case / SLA action the hub writes', () => {
    expect(actionsWrittenInSrc()).toEqual([...CASE_AUDIT_ACTIONS].sort());
  });

  it('says each in plain words (never the generic fallback)', () => {
    const clock = { id: 'k1', kind: 'acknowledge', taskId: null, sla: 'fulfilment-risk', dueAt: '2026-12-07T15:30:00.000Z' };
    const taskClock = { id: 'k2', kind: 'resolve', taskId: 't1', sla: 'customer-comms', dueAt: null };
    const task = { id: 't1', task: 'customer-communication', team: 'customer-service', title: 'Tell the customer', required: true, status: 'done', note: 'called the buyer' };
    const ctx = { taskTitles: new Map([['t1', 'Tell the customer']]) };
    const ref = { id: 'a1', caseId: 'c1', ruleId: 'strategic-fulfilment-risk', action: 'http', idempotencyKey: 'c1:http:r', attempts: 3 };
    const says = (a: AuditEvent) => sentence(a, ctx);
    expect(says(entry('case.paused', { waitingOn: 'supplier', note: 'ETA asked' }, {}, 'api-key'))).toBe('ops-lead paused the SLA clocks while waiting on the supplier (note: "ETA asked").');
    expect(says(entry('case.resumed', {}, {}, 'api-key'))).toBe('ops-lead resumed the SLA clocks.');
    expect(says(entry('sla.warning', { clock, at: 50 }))).toBe('Warning: the acknowledgement clock (SLA fulfilment-risk) has used 50 % of its target (due 2026-12-07T15:30:00.000Z).');
    expect(says(entry('sla.breached', { clock: taskClock, at: 100 }))).toBe('SLA breached: the task clock of "Tell the customer" (SLA customer-comms) passed its target.');
    expect(says(entry('case.escalated', { escalationLevel: 1, ownerTeam: 'warehouse-ops', extraTeams: [], to: 'team-lead', at: 50, clock }, { ownerTeam: 'warehouse-ops' })))
      .toBe('Escalated to the team lead of warehouse-ops (the acknowledgement clock (SLA fulfilment-risk) at 50 % of its target; escalation level 1).');
    expect(says(entry('case.escalated', { escalationLevel: 2, ownerTeam: 'warehouse-ops', extraTeams: ['sales-ops'], to: 'sales-ops', at: 100, clock }, { ownerTeam: 'warehouse-ops' })))
      .toMatch(/^Escalated: sales-ops brought in alongside warehouse-ops \(/);
    expect(says(entry('case.escalated', { escalationLevel: 3, ownerTeam: 'operations-control', to: 'operations-control', at: 150, clock }, { ownerTeam: 'warehouse-ops' })))
      .toMatch(/^Escalated: reassigned from warehouse-ops to operations-control \(/);
    expect(says(entry('case.task.opened', task))).toBe('A required task opened for customer-service: Tell the customer.');
    expect(says(entry('case.task.completed', { task }, {}, 'api-key'))).toBe('ops-lead completed the task "Tell the customer" (customer-service) (note: "called the buyer").');
    expect(says(entry('case.resolved', { status: 'resolved', rootCause: 'INVENTORY_ACCURACY', resolutionNote: 'all required tasks done', task, resolved: true }, {}, 'api-key')))
      .toBe('ops-lead completed the last required task, "Tell the customer" (customer-service), which resolved the case (root cause INVENTORY_ACCURACY).');
    // The actions' own audit builders, so a change in what they record shows up here.
    expect(says(notifiedRecords(ref, { team: 'customer-service', message: 'Call the buyer' }, null).audit[0] as unknown as AuditEvent))
      .toBe('The hub notified customer-service: "Call the buyer".');
    const done = settledRecords(ref, 'done', { summary: 'POST https://x.example/expedite: 200', response: null, attempt: 3 }, null).audit[0];
    expect(says(entry(done.action, done.after as Record<string, unknown>))).toBe('The hub ran the action http of rule strategic-fulfilment-risk: POST https://x.example/expedite: 200 after 3 attempts.');
    const failed = settledRecords({ ...ref, attempts: 1 }, 'failed', { summary: 'refused: 400', response: null, attempt: 1 }, null).audit[0];
    expect(says(entry(failed.action, failed.after as Record<string, unknown>))).toBe('The action http of rule strategic-fulfilment-risk failed: refused: 400.');
    for (const action of CASE_AUDIT_ACTIONS) expect(says(entry(action, {}))).not.toMatch(/ recorded /);
  });
});
