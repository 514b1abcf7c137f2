import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { AuditTrail, type AuditEntry } from '../audit/audit-trail.service.js';
import type { PendingOutbound, PollContext, PolledMessage, ResolvedInstance } from '../connectors/connector.js';
import { returnedRows } from '../database/returning.js';
import type { PollAlarms } from './poll-alarms.service.js';
import type { SizedMessage } from './pipeline-jobs.js';

export interface PollContextDeps {
  ds: DataSource;
  audit: AuditTrail;
  alarms: PollAlarms;
  /** Hands committed messages to the pipeline queue (cut into jobs by count and raw bytes). */
  enqueue(messages: SizedMessage[]): Promise<void>;
  pause?: { checkpoint: string; ms: number };
  onPause?(name: string): void;
}

/**
 * The durable side of one poll (see PollContext in src/connectors/connector.ts). Raw SQL: single
 * statements per ingest keep a large file's hundreds of record batches at one round trip each.
 */
export function pollContext(instance: ResolvedInstance, signal: AbortSignal, deps: PollContextDeps, notes: Record<string, unknown>): PollContext & { ingestedCount(): number } {
  const { ds } = deps;
  const cid = instance.id;
  let ingested = 0;
  const putState = async (m: EntityManager | DataSource, state: Record<string, unknown> = {}) => {
    for (const [key, value] of Object.entries(state)) {
      if (value === undefined) await m.query(`DELETE FROM connector_poll_items WHERE connector_id = $1 AND key = $2`, [cid, key]);
      else
        await m.query(
          `INSERT INTO connector_poll_items (connector_id, key, value, updated_at) VALUES ($1, $2, $3::jsonb, now())
           ON CONFLICT (connector_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
          [cid, key, JSON.stringify(value)],
        );
    }
  };
  return {
    now: new Date(),
    signal,
    ingestedCount: () => ingested,
    async ingest(msg: PolledMessage) {
      const id = uuidv7();
      const staged = !!msg.group;
      const meta = { ...(msg.meta ?? {}), origin: 'poll', pollKey: msg.key, ...(msg.group ? { group: msg.group } : {}) };
      // The key is the identity of a polled message; the sha256 covers key and bytes so that two
      // identical record batches from different files are both kept (files themselves are
      // deduplicated by content hash in the connector's ledger).
      const sha = createHash('sha256').update(msg.key).update('\0').update(msg.body).digest('hex');
      const rows = returnedRows<{ id: string }>(
        await ds.query(
          `WITH ins AS (
             INSERT INTO inbound_messages (id, connector_id, connector_type, sender_event_id, sha256, content_type, size_bytes, raw, received_at, meta, status, enqueued_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), $9::jsonb, $10::varchar, CASE WHEN $10::varchar = 'received' THEN now() END)
             ON CONFLICT DO NOTHING RETURNING id, sha256, size_bytes
           ), audit AS (
             INSERT INTO audit_events (actor_type, actor_id, entity_type, entity_id, action, after)
             SELECT 'connector', $2, 'message', ins.id::text, 'message.accepted', jsonb_build_object('connectorId', $2::text, 'pollKey', $4::text, 'sha256', ins.sha256, 'sizeBytes', ins.size_bytes, 'staged', $10::varchar = 'staged')
               FROM ins
           )
           SELECT id FROM ins`,
          [id, cid, instance.type, msg.key.slice(0, 256), sha, msg.contentType ?? null, msg.body.length, msg.body, JSON.stringify(meta), staged ? 'staged' : 'received'],
        ),
      );
      if (rows.length) {
        ingested++;
        if (!staged) await deps.enqueue([{ id, bytes: msg.body.length }]);
        return { messageId: id, duplicate: false };
      }
      const prior: { id: string }[] = await ds.query(`SELECT id FROM inbound_messages WHERE connector_id = $1 AND sender_event_id = $2`, [cid, msg.key.slice(0, 256)]);
      return { messageId: prior[0]?.id ?? id, duplicate: true };
    },
    async releaseGroup(group, state) {
      const released = await ds.transaction(async (m) => {
        const rows = returnedRows<{ id: string; bytes: number }>(
          await m.query(
            `UPDATE inbound_messages SET status = 'received', enqueued_at = now()
              WHERE connector_id = $1 AND status = 'staged' AND meta->>'group' = $2 RETURNING id, size_bytes AS bytes`,
            [cid, group],
          ),
        ).map((r) => ({ id: r.id, bytes: Number(r.bytes) }));
        // uuidv7 ids follow the order the messages were stored in: jobs then follow the file's order.
        rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        const entries: AuditEntry[] = rows.map(({ id }) => ({ actor: { type: 'connector', id: cid }, entityType: 'message', entityId: id, action: 'message.released', after: { group } }));
        if (entries.length) await deps.audit.record(m, entries);
        await putState(m, state);
        return rows;
      });
      await deps.enqueue(released);
      return released.length;
    },
    async discardGroup(group, state) {
      return ds.transaction(async (m) => {
        const gone = returnedRows(await m.query(`DELETE FROM inbound_messages WHERE connector_id = $1 AND status = 'staged' AND meta->>'group' = $2 RETURNING id`, [cid, group]));
        await putState(m, state);
        return gone.length;
      });
    },
    state: {
      async get<T>(key: string) {
        const rows: { value: T }[] = await ds.query(`SELECT value FROM connector_poll_items WHERE connector_id = $1 AND key = $2`, [cid, key]);
        return rows[0]?.value;
      },
      put: (key, value) => putState(ds, { [key]: value }),
      delete: (key) => putState(ds, { [key]: undefined }),
      async list<T>(prefix: string, limit = 10_000) {
        const rows: { key: string; value: T }[] = await ds.query(
          `SELECT key, value FROM connector_poll_items WHERE connector_id = $1 AND key LIKE $2 ORDER BY key LIMIT $3`,
          [cid, prefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%', limit],
        );
        return rows;
      },
    },
    async raise(finding) {
      await deps.alarms.raise(instance, finding);
    },
    async pendingOutbound(limit = 100): Promise<PendingOutbound[]> {
      const rows: { id: string; kind: string; partner: string; control_number: string; content_type: string; content: string; created_at: Date }[] = await ds.query(
        `SELECT id, kind, partner, control_number, content_type, content, created_at FROM outbound_documents
          WHERE connector_id = $1 AND delivered_at IS NULL ORDER BY created_at, id LIMIT $2`,
        [cid, limit],
      );
      return rows.map((r) => ({ id: r.id, kind: r.kind, partner: r.partner, controlNumber: r.control_number, contentType: r.content_type, content: r.content, createdAt: new Date(r.created_at) }));
    },
    async markDelivered(id, where) {
      await ds.transaction(async (m) => {
        const rows = returnedRows<{ message_id: string }>(
          await m.query(`UPDATE outbound_documents SET delivered_at = now() WHERE id = $1 AND delivered_at IS NULL RETURNING message_id`, [id]),
        );
        if (rows.length)
          await deps.audit.record(m, [{ actor: { type: 'connector', id: cid }, entityType: 'message', entityId: rows[0].message_id, action: 'ack.delivered', after: { outboundId: id, where } }]);
      });
    },
    async checkpoint(name) {
      if (deps.pause?.checkpoint !== name) return;
      deps.onPause?.(name);
      await new Promise((r) => setTimeout(r, deps.pause!.ms));
    },
    note(facts) {
      Object.assign(notes, facts);
    },
  };
}
