import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/**
 * Moves committed outbox events to deliveries: one row per event × matching active subscription.
 * Progress is persisted per event (`published_at`, set in the same transaction as the fan-out), not
 * as a position: an event that commits late is still unpublished when it becomes visible, so it is
 * never skipped, and the relay does not wait for the oldest running transaction in the whole
 * PostgreSQL cluster as a (tx, id) cursor with snapshot xmin would. Events of one case are written
 * under the case row's lock, so an earlier one is visible no later than a later one, and within a
 * run they are fanned out in (tx, id) order. Idempotent: the unique (event, subscription) index
 * makes a second run create nothing; one relay at a time (advisory lock). Only PostgreSQL is
 * touched: Redis being down delays the enqueue, never the fan-out.
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
        `SELECT e.id, e.tx FROM outbox_events e WHERE e.published_at IS NULL ORDER BY e.tx, e.id LIMIT $1`,
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
      await m.query(`UPDATE outbox_events SET published_at = now() WHERE id = ANY($1::bigint[])`, [ids]);
      return { events: events.length, deliveries };
    });
  }
}
