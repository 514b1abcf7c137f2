import { Injectable } from '@nestjs/common';
import type { AuditEntry } from '../audit/audit-trail.service.js';
import { CONNECTOR_TYPES } from '../connectors/connector-catalog.js';
import type { ActionOutcome } from '../connectors/connector.js';
import { ConnectorInstances } from '../connectors/connector-instances.service.js';
import type { NewEvent } from '../delivery/event-feed.service.js';
import { HttpParams, NotifyParams } from '../routing/rule-outputs.js';
import type { CaseActionRecord } from './case-action.entity.js';
import { CaseActions } from './case-actions.service.js';
import { notifiedRecords, type ActionCase } from './action-records.js';

/** How long an undoing action waits before it looks again at the run it undoes. */
const UNDO_WAIT_MS = 15_000;
/**
 * How long it waits at most. The run it undoes settles within its own retries (minutes), or is taken
 * over when its worker dies; one still unsettled and untouched after a day is stuck, and the release
 * must not wait (or hold a job) for ever: it fails, visibly, for somebody to look at both.
 */
export const UNDO_WAIT_LIMIT_MS = 24 * 3_600_000;

export interface ActionRun {
  outcome: ActionOutcome;
  /** Audit entries and events written in the same transaction that marks the action done (so they happen once). */
  effects?: (kase: ActionCase | null) => { audit: AuditEntry[]; events: NewEvent[] };
}

/**
 * Runs one attempt of a case action. Built in: `notify` (an outbox event and audit entry for a team)
 * and `http` (POST JSON to a URL with an Idempotency-Key header). Anything else is
 * `<connectorId>.<action>`: the connector instance's `actions[action].run()` (src/connectors/connector.ts).
 */
@Injectable()
export class ActionRunner {
  constructor(
    private readonly instances: ConnectorInstances,
    private readonly actions: CaseActions,
  ) {}

  async run(a: CaseActionRecord): Promise<ActionRun> {
    if (a.action === 'notify') return this.notify(a);
    if (a.action === 'http') return { outcome: await this.http(a) };
    return { outcome: await this.connectorAction(a) };
  }

  private notify(a: CaseActionRecord): ActionRun {
    const p = NotifyParams.parse(a.params);
    return { outcome: { status: 'done', summary: `notified ${p.team}` }, effects: (kase) => notifiedRecords(a, p, kase) };
  }

  private async http(a: CaseActionRecord): Promise<ActionOutcome> {
    const p = HttpParams.parse(a.params);
    let res: Response;
    try {
      res = await fetch(p.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': a.idempotencyKey },
        body: JSON.stringify({ caseId: a.caseId, rule: a.ruleId, action: a.action, idempotencyKey: a.idempotencyKey, ...p.body }),
        signal: AbortSignal.timeout(p.timeoutMs),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      return { status: 'failed', retryable: true, summary: `POST ${p.url} failed: ${err.cause?.code ?? err.name}: ${err.message}` };
    }
    const text = (await res.text().catch(() => '')).slice(0, 2000);
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* keep text */
    }
    if (res.ok) return { status: 'done', summary: `POST ${p.url}: ${res.status}`, response: { status: res.status, body } };
    const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
    return { status: 'failed', retryable, summary: `POST ${p.url}: ${res.status}`, response: { status: res.status, body } };
  }

  private async connectorAction(a: CaseActionRecord): Promise<ActionOutcome> {
    const [connectorId, name] = a.action.split('.', 2);
    const instance = await this.instances.resolve(connectorId);
    if (!instance) return { status: 'failed', retryable: false, summary: `no connector instance ${connectorId}` };
    if (!instance.enabled) return { status: 'failed', retryable: true, summary: `connector instance ${connectorId} is disabled` };
    const type = CONNECTOR_TYPES.find((c) => c.type === instance.type);
    const action = type?.actions?.[name];
    if (!action) return { status: 'failed', retryable: false, summary: `connector type ${instance.type} has no action ${name}` };
    const params = action.paramsSchema.safeParse(a.params);
    if (!params.success) return { status: 'failed', retryable: false, summary: `params: ${params.error.issues[0].path.join('.')}: ${params.error.issues[0].message}` };
    if (action.undoes) {
      const left = await this.leftAsFound(a, `${connectorId}.${action.undoes}`, params.data);
      if (left) return left;
    }
    return action.run(instance, { action: name, params: params.data, idempotencyKey: a.idempotencyKey, caseId: a.caseId, attempt: a.attempts });
  }

  /**
   * An undoing action (a hold's release) undoes only what its case did: where the case's rule ran the
   * action it undoes, it waits (without using up its attempts) while that run is unsettled, and does
   * nothing when that run is known to have changed nothing: the target was already in that state (a hold
   * somebody else placed stays), or the target refused it. A run that failed otherwise (timeouts, 5xx)
   * may have taken effect, so the release runs, as it does when the rule has no such action.
   */
  private async leftAsFound(a: CaseActionRecord, undone: string, params: Record<string, unknown>): Promise<ActionOutcome | null> {
    const run = await this.actions.counterpart(a, undone, params);
    if (!run || run.status === 'on-resolve') return null;
    if (run.status === 'pending' || run.status === 'running') {
      // Stuck means both: this release has waited that long, and the run it waits for has not moved
      // (an attempt, a retry, a takeover all touch it) for as long: after a long outage of the workers
      // the hold gets its turn first.
      const since = waitingSince(a);
      const moved = new Date(run.updatedAt);
      if (since && Date.now() - Math.max(since.getTime(), moved.getTime()) >= UNDO_WAIT_LIMIT_MS) {
        return {
          status: 'failed', retryable: false,
          summary: `gave up waiting for ${undone} on this case to settle: still ${run.status}, unchanged since ${moved.toISOString()}, after waiting since ${since.toISOString()} (over ${UNDO_WAIT_LIMIT_MS / 3_600_000} h); check that action, and undo it in the target system by hand if it took effect`,
        };
      }
      return { status: 'failed', retryable: true, waitMs: UNDO_WAIT_MS, summary: `waiting for ${undone} on this case to settle first` };
    }
    if (run.result?.changed !== false) return null;
    const why = run.status === 'failed' ? 'was refused' : 'found it already in place';
    return { status: 'done', changed: false, summary: `left as found: ${undone} ${why} (${String(run.result.summary)}), so this case has nothing to undo` };
  }
}

/** When the action was first postponed to wait for the run it undoes (CaseActions.postpone); null when it never was. */
function waitingSince(a: CaseActionRecord): Date | null {
  const r = a.result as { waiting?: boolean; waitingSince?: string } | null;
  if (!r?.waiting || !r.waitingSince) return null;
  const t = new Date(r.waitingSince);
  return Number.isNaN(t.getTime()) ? null : t;
}
