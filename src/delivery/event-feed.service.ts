import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { arrayParams, writeJointly, type WritePart } from '../database/joint-write.js';
import { OutboxEvent, type EventType } from './outbox-event.entity.js';

export interface NewEvent {
  type: EventType;
  caseId?: string | null;
  entityType: 'case' | 'exception' | 'message';
  entityId: string;
  facets?: { team?: string | null; code?: string | null; severity?: string | null; site?: string | null; businessUnit?: string | null };
  payload: Record<string, unknown>;
}

export interface FeedQuery {
  after?: string;
  limit: number;
  types?: string[];
  team?: string[];
  code?: string[];
  severity?: string[];
  site?: string[];
  businessUnit?: string[];
}

/** The event outbox and the pull feed read from it. */
@Injectable()
export class EventFeed {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Appends events inside the caller's transaction: they commit, or vanish, with the change. */
  async append(m: EntityManager, events: NewEvent[]): Promise<void> {
    await writeJointly(m, [this.part(events)]);
  }

  /** The events as one write for `writeJointly` (with the audit entries they travel with); null when there are none. */
  part(events: NewEvent[]): WritePart | null {
    if (!events.length) return null;
    return {
      sql: (p) => `INSERT INTO outbox_events (type, case_id, entity_type, entity_id, team, code, severity, site, business_unit, payload)
       SELECT * FROM unnest(${arrayParams(p, ['varchar', 'uuid', 'varchar', 'varchar', 'varchar', 'varchar', 'varchar', 'varchar', 'varchar', 'jsonb'])})`,
      args: [
        events.map((e) => e.type),
        events.map((e) => e.caseId ?? null),
        events.map((e) => e.entityType),
        events.map((e) => e.entityId),
        events.map((e) => e.facets?.team ?? null),
        events.map((e) => e.facets?.code ?? null),
        events.map((e) => e.facets?.severity ?? null),
        events.map((e) => e.facets?.site ?? null),
        events.map((e) => e.facets?.businessUnit ?? null),
        events.map((e) => JSON.stringify(e.payload)),
      ],
    };
  }

  /**
   * Events after a cursor, in commit-safe order. Ids are assigned at insert but become visible at
   * commit, so paging by id could skip an event whose transaction commits late. Instead events are
   * ordered by (writing transaction, id) and only those of transactions older than every running
   * one (the snapshot's xmin) are returned: once returned, nothing can appear before the cursor.
   */
  async read(q: FeedQuery): Promise<{ items: OutboxEvent[]; nextCursor: string | null }> {
    const qb = this.ds
      .getRepository(OutboxEvent)
      .createQueryBuilder('e')
      .where(`e.tx < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint`)
      .orderBy('e.tx', 'ASC')
      .addOrderBy('e.id', 'ASC')
      .limit(q.limit);
    if (q.after) {
      const [tx, id] = q.after.split('-');
      qb.andWhere('(e.tx, e.id) > (:tx, :id)', { tx, id });
    }
    if (q.types?.length) qb.andWhere('e.type IN (:...types)', { types: q.types });
    for (const k of ['team', 'code', 'severity', 'site', 'businessUnit'] as const) {
      if (q[k]?.length) qb.andWhere(`e.${k} IN (:...${k})`, { [k]: q[k] });
    }
    const items = await qb.getMany();
    const last = items[items.length - 1];
    return { items, nextCursor: last ? `${last.tx}-${last.id}` : (q.after ?? null) };
  }
}
