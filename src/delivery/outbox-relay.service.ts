import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/**
 * Moves committed outbox events to deliveries: one row per event × matching active subscription,
 * in (tx, id) order from a persisted cursor. Only events of transactions older than every running
 * one are taken (as in the feed), so a late commit is never skipped. Idempotent: the unique
 * (event, subscription) index makes a second run create nothing; one relay at a time (advisory lock).
 * Only PostgreSQL is touched: Redis being down delays the enqueue, never the fan-out.
 */
@Injectable()
export class OutboxRelay {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** One batch; answers the new delivery ids (to enqueue) and how many events were read. */
  async run(batch = 1000): Promise<{ events: number; deliveries: { id: string; attempts: number }[] }> {
    return this.ds.transaction(async (m) => {
      const [{ locked }] = await m.query(`SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || ':outbox-relay')) AS locked`);
      if (!locked) return { events: 0, deliveries: [] };
      const events: { id: string; tx: string }[] = await m.query(
        `SELECT e.id, e.tx FROM outbox_events e, outbox_relay_cursor c
          WHERE c.name = 'relay' AND (e.tx, e.id) > (c.tx, c.event_id)
            AND e.tx < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint
          ORDER BY e.tx, e.id LIMIT $1`,
        [batch],
      );
      if (!events.length) return { events: 0, deliveries: [] };
      const ids = events.map((e) => e.id);
      // Raw SQL: matching is one join, done where the data is. Deliveries are created in event
      // order (ORDER BY feeds the identity `seq`), which per-case ordering relies on. A subscriber
      // does not receive the DELIVERY_FAILED case about itself (it would feed its own failures).
      const deliveries: { id: string; attempts: number }[] = await m.query(
        `INSERT INTO deliveries (event_id, subscription_id, case_id, event_type)
         SELECT e.id, s.id, e.case_id, e.type
           FROM outbox_events e JOIN subscriptions s ON s.active AND e.type = ANY(s.event_types)
            AND (s.teams IS NULL OR e.team = ANY(s.teams)) AND (s.codes IS NULL OR e.code = ANY(s.codes))
            AND (s.severities IS NULL OR e.severity = ANY(s.severities)) AND (s.sites IS NULL OR e.site = ANY(s.sites))
            AND (s.business_units IS NULL OR e.business_unit = ANY(s.business_units))
            AND NOT (e.code = 'INTEGRATION.DELIVERY_FAILED'
                     AND COALESCE(e.payload #>> '{exception,correlationKey}', e.payload #>> '{case,correlationKey}') = 'delivery-failed:' || s.id::text)
          WHERE e.id = ANY($1::bigint[])
          ORDER BY e.tx, e.id, s.id
         ON CONFLICT (event_id, subscription_id) DO NOTHING
         RETURNING id, attempts`,
        [ids],
      );
      const last = events[events.length - 1];
      await m.query(`UPDATE outbox_events SET published_at = now() WHERE id = ANY($1::bigint[])`, [ids]);
      await m.query(`UPDATE outbox_relay_cursor SET tx = $1, event_id = $2 WHERE name = 'relay'`, [last.tx, last.id]);
      return { events: events.length, deliveries };
    });
  }
}
