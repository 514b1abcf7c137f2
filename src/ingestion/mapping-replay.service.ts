import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditTrail, type Actor, type AuditEntry } from '../audit/audit-trail.service.js';
import type { CanonicalException } from '../canonical/exception.schema.js';
import { ExceptionRecording, type AfterCommit } from '../cases/exception-recording.service.js';
import { ConnectorInstances } from '../connectors/connector-instances.service.js';
import { EventFeed } from '../delivery/event-feed.service.js';
import { ActiveArtifacts } from '../mapping/active-artifacts.service.js';
import { ArtifactRegistry } from '../mapping/artifact-registry.service.js';
import type { LoadedMapping } from '../mapping/mapping-registry.service.js';
import { Router, type RoutingDecision } from '../routing/router.service.js';
import { MessageInterpreter, type Interpretation, type LockedMessage } from './message-interpreter.js';
import { compareResults, isUnchanged, resultContent, type ResultComparison, type ResultItem } from './result-comparison.js';
import { writeJointly } from '../database/joint-write.js';

const PROCESSED = ['parsed', 'mapped', 'routed', 'failed'];
const MESSAGE_COLUMNS = 'id, connector_id, connector_type, sender_event_id, raw, received_at, exception_count, meta';

export interface DiffLimits {
  since: Date;
  maxMessages: number;
  timeoutMs: number;
  connectorId?: string;
}

/** Thrown to roll back a dry run while handing its value out. */
class DryRun<T> {
  constructor(readonly value: T) {}
}

interface Candidate {
  it: Interpretation;
  routed: { exception: CanonicalException; decision: RoutingDecision }[];
  items: ResultItem[];
}

/**
 * Replays stored messages through a mapping without keeping anything (regression diff), or with the
 * version now in force, keeping only what changed (reprocess). Each message is interpreted in its own
 * transaction that is rolled back, so connector counters and claims are untouched and locks are short.
 */
@Injectable()
export class MappingReplay {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly interpreter: MessageInterpreter,
    private readonly router: Router,
    private readonly recording: ExceptionRecording,
    private readonly audit: AuditTrail,
    private readonly events: EventFeed,
    private readonly active: ActiveArtifacts,
    private readonly registry: ArtifactRegistry,
    private readonly instances: ConnectorInstances,
  ) {}

  /** Which exceptions a candidate version would make appear, disappear or change, over stored messages. Writes nothing. */
  async diff(mappingId: string, version: string, limits: DiffLimits) {
    const candidate = await this.registry.compiled('mapping', mappingId, version);
    if (!candidate) return null;
    await this.active.refresh();
    const started = Date.now();
    const connectors = (await this.instances.list()).filter((i) => (i.config as { mapping?: string }).mapping === mappingId && (!limits.connectorId || i.id === limits.connectorId)).map((i) => i.id);
    const ids: { id: string }[] = await this.ds.query(
      `SELECT id FROM inbound_messages WHERE connector_id = ANY($1::varchar[]) AND received_at >= $2 AND status = ANY($3::varchar[])
        ORDER BY received_at DESC LIMIT $4`,
      [connectors, limits.since, PROCESSED, limits.maxMessages + 1],
    );
    const report = { appear: [] as object[], disappear: [] as object[], change: [] as object[] };
    let examined = 0;
    let unchangedMessages = 0;
    let stoppedBy: 'max-messages' | 'timeout' | null = ids.length > limits.maxMessages ? 'max-messages' : null;
    for (const { id } of ids.slice(0, limits.maxMessages)) {
      if (Date.now() - started > limits.timeoutMs) {
        stoppedBy = 'timeout';
        break;
      }
      const msg = await this.message(this.ds.manager, id);
      if (!msg) continue;
      const c = compareResults(await this.storedResult(this.ds.manager, id), (await this.candidate(msg, candidate)).items);
      examined++;
      if (isUnchanged(c)) unchangedMessages++;
      const at = { messageId: id, connectorId: msg.connector_id, receivedAt: msg.received_at };
      report.appear.push(...c.appear.map((a) => ({ ...at, exception: brief(a) })));
      report.disappear.push(...c.disappear.map((d) => ({ ...at, exception: brief(d) })));
      report.change.push(...c.changed.map((ch) => ({ ...at, fields: ch.fields, before: brief(ch.before), after: brief(ch.after) })));
    }
    return {
      mapping: { id: mappingId, candidate: version },
      window: { since: limits.since.toISOString(), connectors },
      limits: { maxMessages: limits.maxMessages, timeoutMs: limits.timeoutMs },
      complete: stoppedBy === null,
      stoppedBy,
      examinedMessages: examined,
      unchangedMessages,
      elapsedMs: Date.now() - started,
      summary: { appear: report.appear.length, disappear: report.disappear.length, change: report.change.length },
      ...report,
      note: 'compared with the stored results of each message; routed through the policy in force; nothing was written',
    };
  }

  /**
   * Re-runs a processed message with the mapping versions in force. Unchanged exceptions stay; a changed
   * one is recorded anew with `supersedes` pointing at the earlier one, which is marked superseded; a
   * withdrawn one is marked superseded. Nothing changes when the result is the same (apart from the audit entry).
   */
  async reprocess(messageId: string, actor: Actor): Promise<'not-found' | 'not-processed' | object> {
    await this.active.refresh();
    const msg = await this.message(this.ds.manager, messageId);
    if (!msg) return 'not-found';
    const [{ status }] = await this.ds.query(`SELECT status FROM inbound_messages WHERE id = $1`, [messageId]);
    if (!PROCESSED.includes(status)) return 'not-processed';
    const cand = await this.candidate(msg);
    let after: AfterCommit | undefined;
    const result = await this.ds.transaction(async (m) => {
      const [locked]: { status: string; exception_count: number }[] = await m.query(`SELECT status, exception_count FROM inbound_messages WHERE id = $1 FOR UPDATE`, [messageId]);
      const c = compareResults(await this.storedResult(m, messageId), cand.items);
      const mappings = [...new Set(cand.items.map((i) => `${i.mapping.id}@${i.mapping.version}`))];
      const entry = (after: Record<string, unknown>): AuditEntry => ({ actor, entityType: 'message', entityId: messageId, action: 'message.reprocessed', before: { status: locked.status }, after });
      if (isUnchanged(c)) {
        await this.audit.record(m, [entry({ status: locked.status, changed: false, mappings })]);
        return { messageId, changed: false, status: locked.status, mappings, exceptions: c.unchanged.map((u) => u.before.exceptionId) };
      }
      const fresh = [...c.changed.map((ch) => ({ item: ch.after, supersedes: ch.before.exceptionId! })), ...c.appear.map((item) => ({ item, supersedes: null }))];
      const routed = fresh.map((f, i) => {
        const r = cand.routed[cand.items.indexOf(f.item)];
        return { messageId, ordinal: locked.exception_count + i, exception: r.exception, decision: r.decision };
      });
      // New exceptions open, join or clear cases like the pipeline's (SLA clocks, tasks, actions included).
      const recorded = await this.recording.record(m, routed);
      const intake = recorded.intake;
      after = recorded.after;
      const links = intake.exceptionIds.map((id, i) => ({ id, supersedes: fresh[i].supersedes }));
      await m.query(
        `UPDATE exceptions AS e SET supersedes = l.supersedes FROM unnest($1::uuid[], $2::uuid[]) AS l(id, supersedes) WHERE e.id = l.id`,
        [links.map((l) => l.id), links.map((l) => l.supersedes)],
      );
      const retired = [...c.changed.map((ch) => ch.before.exceptionId!), ...c.disappear.map((d) => d.exceptionId!)];
      await m.query(`UPDATE exceptions SET superseded_at = now() WHERE id = ANY($1::uuid[])`, [retired]);
      const opensCase = cand.routed.some((r) => r.decision.opensCase);
      const next = cand.it.failed ? 'failed' : opensCase ? 'routed' : cand.items.length === 0 && cand.it.documents.length ? 'parsed' : 'mapped';
      await m.query(`UPDATE inbound_messages SET status = $2, exception_count = exception_count + $3, processed_at = now() WHERE id = $1`, [messageId, next, routed.length]);
      const supersededBy = new Map(links.filter((l) => l.supersedes).map((l) => [l.supersedes!, l.id]));
      const audit = this.audit.part([
        entry({ status: next, changed: true, mappings, added: intake.exceptionIds, superseded: retired }),
        ...retired.map((id) => ({ actor, entityType: 'exception' as const, entityId: id, action: 'exception.superseded', after: { by: supersededBy.get(id) ?? null, reason: `reprocessed with ${mappings.join(', ') || 'the mapping in force'}` } })),
        ...intake.audit,
      ]);
      await writeJointly(m, [audit, this.events.part(intake.events)]);
      return {
        messageId,
        changed: true,
        status: next,
        mappings,
        added: links,
        superseded: retired,
        unchanged: c.unchanged.map((u) => u.before.exceptionId),
      };
    });
    await this.recording.settle(after);
    return result;
  }

  private async message(m: EntityManager, id: string): Promise<LockedMessage | undefined> {
    const [row]: LockedMessage[] = await m.query(`SELECT ${MESSAGE_COLUMNS} FROM inbound_messages WHERE id = $1`, [id]);
    return row;
  }

  /** The message's current result: its exceptions not superseded, except those a connector watch added later. */
  private async storedResult(m: EntityManager, messageId: string): Promise<ResultItem[]> {
    const rows: { id: string; severity: string; mapping_id: string; mapping_version: string; owner_team: string | null; payload: CanonicalException }[] = await m.query(
      `SELECT e.id, e.severity, e.mapping_id, e.mapping_version, c.owner_team, e.payload
         FROM exceptions e LEFT JOIN cases c ON c.id = e.case_id
        WHERE e.message_id = $1 AND e.superseded_at IS NULL AND e.document_type <> 'watch' ORDER BY e.ordinal`,
      [messageId],
    );
    return Promise.all(
      rows.map(async (r) => {
        const team = r.owner_team ?? (await this.router.decide(r.payload)).team;
        return item(r.payload, r.severity, team, r.id);
      }),
    );
  }

  /** What the pipeline would make of the message now (or with a candidate mapping), in a rolled-back transaction. */
  private async candidate(msg: LockedMessage, mapping?: LoadedMapping): Promise<Candidate> {
    try {
      await this.ds.transaction(async (m) => {
        // As on first arrival: a connector skips what this very message already claimed (x12 treats
        // its own interchange claim as "processed before"), so its claims are lifted in this
        // transaction, which is rolled back.
        await m.query(`DELETE FROM connector_claims WHERE connector_id = $1 AND message_id = $2`, [msg.connector_id, msg.id]);
        const it = await this.interpreter.interpret(m, msg, { mapping });
        const routed = await Promise.all(it.exceptions.map(async (exception) => ({ exception, decision: await this.router.decide(exception) })));
        throw new DryRun({ it, routed, items: routed.map((r) => item(r.exception, r.decision.severity, r.decision.team)) });
      });
    } catch (e) {
      if (e instanceof DryRun) return e.value as Candidate;
      throw e;
    }
    throw new Error('unreachable');
  }
}

function item(e: CanonicalException, severity: string, team: string, exceptionId?: string): ResultItem {
  return {
    exceptionId,
    code: e.code,
    severity,
    team,
    correlationKey: e.correlationKey,
    title: e.title,
    mapping: e.mapping,
    content: resultContent({ ...e, severity } as unknown as Record<string, unknown>, severity, team),
  };
}

const brief = (i: ResultItem) => ({
  ...(i.exceptionId ? { id: i.exceptionId } : {}),
  code: i.code,
  severity: i.severity,
  team: i.team,
  correlationKey: i.correlationKey,
  title: i.title,
  mapping: i.mapping,
});

export type { ResultComparison };
