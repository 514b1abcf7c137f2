import type { DataSource } from 'typeorm';

export interface NewMessage {
  id: string;
  connectorId: string;
  connectorType: string;
  senderEventId: string | null;
  sha256: string;
  contentType: string | null;
  raw: Buffer;
  receivedAt: Date;
  meta?: Record<string, string>;
}

export interface WriteResult {
  messageId: string;
  duplicate: boolean;
}

interface Pending {
  msg: NewMessage;
  resolve: (r: WriteResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit for accepted messages: while one batch commits, the next requests queue up and
 * go in the following INSERT. Idle traffic commits alone (low latency); bursts share commits.
 * Every caller is answered only after its row is durable.
 */
export class InboundWriter {
  private pending: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly ds: DataSource,
    private readonly maxBatch: number,
    /** The newly stored messages of a commit, with their raw sizes (pipeline jobs are cut by bytes). */
    private readonly onCommitted: (stored: { id: string; bytes: number }[]) => void,
  ) {}

  submit(msg: NewMessage): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ msg, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, this.maxBatch);
        try {
          this.settle(batch, await this.write(batch.map((p) => p.msg)));
        } catch (e) {
          if (batch.length === 1) {
            batch[0].reject(e);
            continue;
          }
          // One unwritable row must not fail the other senders of its batch: write each alone.
          for (const p of batch) {
            try {
              this.settle([p], await this.write([p.msg]));
            } catch (err) {
              p.reject(err);
            }
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private settle(batch: Pending[], results: WriteResult[]) {
    batch.forEach((p, i) => p.resolve(results[i]));
    const fresh = results.flatMap((r, i) => (r.duplicate ? [] : [{ id: r.messageId, bytes: batch[i].msg.raw.length }]));
    if (fresh.length) this.onCommitted(fresh);
  }

  private async write(msgs: NewMessage[]): Promise<WriteResult[]> {
    // Raw SQL, one statement, one round trip: the multi-row INSERT (unnest) and its audit rows in a
    // data-modifying CTE commit atomically without BEGIN/COMMIT. Accept latency is mostly round trips
    // to PostgreSQL; four per batch (BEGIN, INSERT, INSERT, COMMIT) measured p99 ~80 ms at 1k/s.
    // ON CONFLICT DO NOTHING turns duplicates into a lookup below.
    const inserted: { id: string }[] = await this.ds.query(
      `WITH ins AS (
         INSERT INTO inbound_messages (id, connector_id, connector_type, sender_event_id, sha256, content_type, size_bytes, raw, received_at, meta, enqueued_at)
         SELECT u.id, u.cid, u.ctype, u.eid, u.sha, u.content_type, u.size, u.raw, u.received_at, u.meta::jsonb, now()
           FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::varchar[], $5::char(64)[], $6::varchar[], $7::int[], $8::bytea[], $9::timestamptz[], $10::text[])
                AS u(id, cid, ctype, eid, sha, content_type, size, raw, received_at, meta)
         ON CONFLICT DO NOTHING
         RETURNING id, connector_id, sender_event_id, sha256, size_bytes
       ), audit AS (
         INSERT INTO audit_events (actor_type, actor_id, entity_type, entity_id, action, after)
         SELECT 'connector', ins.connector_id, 'message', ins.id::text, 'message.accepted',
                jsonb_build_object('connectorId', ins.connector_id, 'senderEventId', ins.sender_event_id, 'sha256', ins.sha256, 'sizeBytes', ins.size_bytes)
           FROM ins ORDER BY ins.id
       )
       SELECT id FROM ins`,
      [
        msgs.map((x) => x.id),
        msgs.map((x) => x.connectorId),
        msgs.map((x) => x.connectorType),
        msgs.map((x) => x.senderEventId),
        msgs.map((x) => x.sha256),
        msgs.map((x) => x.contentType),
        msgs.map((x) => x.raw.length),
        msgs.map((x) => x.raw),
        msgs.map((x) => x.receivedAt),
        msgs.map((x) => JSON.stringify(x.meta ?? {})),
      ],
    );
    const fresh = new Set(inserted.map((r) => r.id));
    const results: WriteResult[] = msgs.map((x) => ({ messageId: x.id, duplicate: !fresh.has(x.id) }));
    const dups = msgs.map((x, i) => ({ x, i })).filter(({ x }) => !fresh.has(x.id));
    if (dups.length) {
      const originals: { ord: number; id: string }[] = await this.ds.query(
        `SELECT DISTINCT ON (u.ord) u.ord, im.id
           FROM unnest($1::varchar[], $2::varchar[], $3::char(64)[], $4::int[]) AS u(cid, eid, sha, ord)
           JOIN inbound_messages im ON im.connector_id = u.cid AND (im.sender_event_id = u.eid OR im.sha256 = u.sha)
          ORDER BY u.ord, im.received_at`,
        [dups.map((d) => d.x.connectorId), dups.map((d) => d.x.senderEventId), dups.map((d) => d.x.sha256), dups.map((d) => d.i)],
      );
      for (const o of originals) results[o.ord].messageId = o.id;
    }
    return results;
  }
}
