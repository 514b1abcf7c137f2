import { SYSTEM_ACTOR, type AuditEntry } from '../audit/audit-trail.service.js';
import type { NewEvent } from '../delivery/event-feed.service.js';

/** What an action's audit entries and events say about its case. */
export interface ActionCase {
  title: string | null;
  severity: string | null;
  code: string | null;
  ownerTeam: string | null;
  site: string | null;
  businessUnit: string | null;
  /** The policy version whose rule asked for the action (the case's routing decision). */
  policy: unknown;
}

interface ActionRef {
  id: string;
  caseId: string;
  ruleId: string;
  action: string;
  idempotencyKey: string;
  attempts: number;
}

/** `case.notified`: the notice itself (audit entry and outbox event for the team). */
export function notifiedRecords(a: ActionRef, p: { team: string; message: string }, kase: ActionCase | null): { audit: AuditEntry[]; events: NewEvent[] } {
  const payload = { caseId: a.caseId, team: p.team, message: p.message, rule: a.ruleId, policy: kase?.policy ?? null, title: kase?.title ?? null, severity: kase?.severity ?? null };
  return {
    audit: [{ actor: SYSTEM_ACTOR, entityType: 'case', entityId: a.caseId, action: 'case.notified', after: payload }],
    events: [
      {
        type: 'case.notified', caseId: a.caseId, entityType: 'case', entityId: a.caseId,
        facets: { team: p.team, code: kase?.code, severity: kase?.severity, site: kase?.site, businessUnit: kase?.businessUnit }, payload,
      },
    ],
  };
}

/** `case.action.done` / `case.action.failed`: an action settled, with its last outcome. */
export function settledRecords(
  a: ActionRef,
  status: 'done' | 'failed',
  result: { summary: string; response: unknown; attempt: number },
  kase: ActionCase | null,
): { audit: AuditEntry[]; events: NewEvent[] } {
  const after = { actionId: a.id, action: a.action, rule: a.ruleId, policy: kase?.policy ?? null, idempotencyKey: a.idempotencyKey, status, attempts: a.attempts, ...result };
  const type = status === 'done' ? ('case.action.done' as const) : ('case.action.failed' as const);
  return {
    audit: [{ actor: SYSTEM_ACTOR, entityType: 'case', entityId: a.caseId, action: type, after }],
    events: [
      {
        type, caseId: a.caseId, entityType: 'case', entityId: a.caseId,
        facets: kase ? { team: kase.ownerTeam, code: kase.code, severity: kase.severity, site: kase.site, businessUnit: kase.businessUnit } : {},
        payload: { caseId: a.caseId, ...after },
      },
    ],
  };
}
