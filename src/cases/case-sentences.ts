import type { AuditEvent } from '../audit/audit-event.entity.js';

/** What a sentence may need besides the audit entry: task titles by task id (SLA entries name only the id). */
export interface SentenceContext {
  taskTitles: Map<string, string>;
}

/**
 * Every audit action written on a case, in one place, so a new one is seen missing here
 * (test: case-sentences.spec.ts). Writers: src/cases (intake, desk), src/sla (clocks, tasks), src/actions.
 */
export const CASE_AUDIT_ACTIONS = [
  'case.opened', 'case.routed', 'case.updated', 'case.acknowledged', 'case.assigned', 'case.commented', 'case.resolved',
  'case.reopened', 'case.paused', 'case.resumed', 'case.task.opened', 'case.task.reopened', 'case.task.completed', 'sla.warning', 'sla.breached',
  'case.escalated', 'case.notified', 'case.action.done', 'case.action.failed',
] as const;

const WAITING_ON: Record<string, string> = { customer: 'the customer', supplier: 'the supplier', carrier: 'the carrier', internal: 'another team' };
const CLOCK: Record<string, string> = { acknowledge: 'acknowledgement', resolve: 'resolution' };

/** One audit entry of a case as a plain sentence. */
export function sentence(a: AuditEvent, ctx: SentenceContext = { taskTitles: new Map() }): string {
  const who = a.actorType === 'system' ? 'The hub' : `${a.actorId}`;
  const after = (a.after ?? {}) as Record<string, any>;
  const before = (a.before ?? {}) as Record<string, any>;
  switch (a.action) {
    case 'case.opened':
      return `${who} opened the case for ${after.team} (severity ${after.severity}).`;
    case 'case.routed':
      return `Routed to ${after.team}: ${after.reason}.`;
    case 'case.updated':
      return after.repeatedException ? `The same exception was reported again (${after.occurrences} times in all).` : `${(after.addedExceptions ?? []).length || 'More'} exception(s) joined the case (now ${after.exceptionCount}).`;
    case 'case.acknowledged':
      return `${who} acknowledged the case.`;
    case 'case.assigned':
      return `${who} assigned the case${after.assignee ? ` to ${after.assignee}` : ''}${after.ownerTeam ? ` (team ${after.ownerTeam})` : ''}.`;
    case 'case.commented':
      return `${who} commented: "${after.comment}".`;
    case 'case.resolved':
      if (after.task) return `${who} completed the last required task, ${taskName(after.task)}, which resolved the case${after.rootCause ? ` (root cause ${after.rootCause})` : ''}.`;
      return after.resolutionNote?.startsWith('Auto-resolved') ? `${after.resolutionNote}.` : `${who} resolved the case (root cause ${after.rootCause}${after.resolutionNote ? `: ${after.resolutionNote}` : ''}).`;
    case 'case.reopened':
      return `The cause recurred, so the case re-opened (re-opened ${after.reopenCount} time${after.reopenCount === 1 ? '' : 's'}).`;
    case 'case.paused':
      return `${who} paused the SLA clocks while waiting on ${WAITING_ON[after.waitingOn] ?? after.waitingOn}${note(after.note)}.`;
    case 'case.resumed':
      return `${who} resumed the SLA clocks${note(after.note)}.`;
    case 'case.task.opened':
      return `${after.required === false ? 'An optional' : 'A required'} task opened for ${after.team}: ${after.title}.`;
    case 'case.task.reopened':
      return `The case came back, so the ${after.required === false ? 'optional' : 'required'} task for ${after.team} opened again: ${after.title}.`;
    case 'case.task.completed':
      return `${who} completed the task ${taskName(after.task)}${note(after.task?.note)}.`;
    case 'sla.warning':
      return `Warning: ${clockName(after.clock, ctx)} has used ${after.at} % of its target${after.clock?.dueAt ? ` (due ${after.clock.dueAt})` : ''}.`;
    case 'sla.breached':
      return `SLA breached: ${clockName(after.clock, ctx)} passed its target.`;
    case 'case.escalated':
      return `${escalation(after, before)} (${clockName(after.clock, ctx)} at ${after.at} % of its target; escalation level ${after.escalationLevel}).`;
    case 'case.notified':
      return `The hub notified ${after.team}: "${after.message}".`;
    case 'case.action.done':
      return `The hub ran the action ${after.action}${after.rule ? ` of rule ${after.rule}` : ''}: ${after.summary}${attempts(after.attempts)}.`;
    case 'case.action.failed':
      return `The action ${after.action}${after.rule ? ` of rule ${after.rule}` : ''} failed${attempts(after.attempts)}: ${after.summary}.`;
    default:
      // An action not written on cases today: still readable, and case-sentences.spec.ts lists the known ones.
      return `${who} recorded ${a.action}.`;
  }
}

function note(n: unknown): string {
  return typeof n === 'string' && n ? ` (note: "${n}")` : '';
}

function attempts(n: unknown): string {
  return typeof n === 'number' && n > 1 ? ` after ${n} attempts` : '';
}

function taskName(t: Record<string, any> | undefined): string {
  if (!t) return 'of the case';
  return `"${t.title ?? t.task}" (${t.team})`;
}

function clockName(clock: Record<string, any> | undefined, ctx: SentenceContext): string {
  const kind = CLOCK[clock?.kind] ?? clock?.kind ?? 'an';
  if (clock?.taskId) {
    const title = ctx.taskTitles.get(clock.taskId);
    return `the task clock${title ? ` of "${title}"` : ''}${clock.sla ? ` (SLA ${clock.sla})` : ''}`;
  }
  return `the ${kind} clock${clock?.sla ? ` (SLA ${clock.sla})` : ''}`;
}

function escalation(after: Record<string, any>, before: Record<string, any>): string {
  if (!after.to || after.to === 'team-lead') return `Escalated to the team lead of ${after.ownerTeam}${after.lead ? `, ${after.lead.name} (${after.lead.contact})` : ''}`;
  if (before.ownerTeam && after.ownerTeam !== before.ownerTeam) return `Escalated: reassigned from ${before.ownerTeam} to ${after.ownerTeam}`;
  return `Escalated: ${after.to} brought in alongside ${after.ownerTeam}`;
}
