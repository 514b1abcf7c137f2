import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface ReportChange {
  events: number;
  types: Record<string, number>;
}
type Listener = (c: ReportChange) => void;

const POLL_MS = 1000;

/**
 * Tells dashboards that reports changed: one poller per process reads outbox_events twice per tick:
 * past the highest id seen (fast: a change shows within a second even while some long transaction
 * elsewhere in the cluster holds the snapshot horizon back), and past a (tx, id) cursor below that
 * horizon (exact, as EventFeed does: a row whose transaction commits late is still announced).
 * Polls only while someone listens.
 */
@Injectable()
export class ReportStream implements OnModuleDestroy {
  private readonly listeners = new Set<Listener>();
  private cursor: { tx: string; id: string } | null = null;
  /** Highest id announced by the fast path, and the ids it announced that the exact path has not passed yet. */
  private fresh = '0';
  private readonly told = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * Resolves once the cursor is placed, so a client told "connected" after this sees every change
   * that commits from then on (placing it on the first timer tick lost changes made in that second).
   */
  async subscribe(l: Listener): Promise<() => void> {
    this.listeners.add(l);
    if (!this.timer) this.timer = setInterval(() => void this.poll(), POLL_MS);
    if (!this.cursor) await this.poll();
    return () => {
      this.listeners.delete(l);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
        this.cursor = null;
        this.told.clear();
      }
    };
  }

  /** One poll at a time; a caller arriving while one runs shares it. */
  poll(): Promise<void> {
    this.inFlight ??= this.read().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async read(): Promise<void> {
    if (!this.ds.isInitialized) return;
    try {
      const horizon = `(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint`;
      if (!this.cursor) {
        const [r] = await this.ds.query(`SELECT tx::text, id::text FROM outbox_events WHERE tx < ${horizon} ORDER BY tx DESC, id DESC LIMIT 1`);
        const [f] = await this.ds.query(`SELECT COALESCE(max(id), 0)::text AS id FROM outbox_events`);
        this.cursor = r ? { tx: r.tx, id: r.id } : { tx: '0', id: '0' };
        this.fresh = f.id;
        return;
      }
      // Fast path: rows committed since the last look, by id. It does not wait for the oldest running
      // transaction in the whole cluster (a long X12 batch or report elsewhere would otherwise stall
      // every dashboard), but it misses a row whose transaction commits after a later id was seen.
      const fresh: { id: string; type: string }[] = await this.ds.query(
        `SELECT id::text, type FROM outbox_events WHERE id > $1::bigint ORDER BY id LIMIT 5000`,
        [this.fresh],
      );
      if (fresh.length) this.fresh = fresh[fresh.length - 1].id;
      for (const r of fresh) this.told.add(r.id);
      // Exact path: the commit-safe (tx, id) cursor below the snapshot horizon catches those late
      // rows; rows the fast path already announced are not announced again.
      const rows: { tx: string; id: string; type: string }[] = await this.ds.query(
        `SELECT tx::text, id::text, type FROM outbox_events WHERE (tx, id) > ($1::bigint, $2::bigint) AND tx < ${horizon} ORDER BY tx, id LIMIT 5000`,
        [this.cursor.tx, this.cursor.id],
      );
      if (rows.length) this.cursor = { tx: rows[rows.length - 1].tx, id: rows[rows.length - 1].id };
      const late = rows.filter((r) => !this.told.delete(r.id));
      // Bound the memory of announced ids while a long transaction holds the horizon back.
      if (this.told.size > 100_000) this.told.clear();
      const announce = [...fresh, ...late];
      if (!announce.length) return;
      const types: Record<string, number> = {};
      for (const r of announce) types[r.type] = (types[r.type] ?? 0) + 1;
      for (const l of this.listeners) l({ events: announce.length, types });
    } catch {
      // A failed poll (database restarting) is retried on the next tick; listeners stay connected.
    }
  }

  onModuleDestroy() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
