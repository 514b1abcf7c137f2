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
 * Tells dashboards that reports changed: one poller per process reads outbox_events past a
 * (tx, id) cursor, only from transactions older than every running one (as EventFeed does), so
 * an event whose transaction commits late is still seen. Polls only while someone listens.
 */
@Injectable()
export class ReportStream implements OnModuleDestroy {
  private readonly listeners = new Set<Listener>();
  private cursor: { tx: string; id: string } | null = null;
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
        this.cursor = r ? { tx: r.tx, id: r.id } : { tx: '0', id: '0' };
        return;
      }
      // Raw SQL: a row-value comparison on the (tx, id) feed index.
      const rows: { tx: string; id: string; type: string }[] = await this.ds.query(
        `SELECT tx::text, id::text, type FROM outbox_events WHERE (tx, id) > ($1::bigint, $2::bigint) AND tx < ${horizon} ORDER BY tx, id LIMIT 5000`,
        [this.cursor.tx, this.cursor.id],
      );
      if (!rows.length) return;
      const last = rows[rows.length - 1];
      this.cursor = { tx: last.tx, id: last.id };
      const types: Record<string, number> = {};
      for (const r of rows) types[r.type] = (types[r.type] ?? 0) + 1;
      for (const l of this.listeners) l({ events: rows.length, types });
    } catch {
      // A failed poll (database restarting) is retried on the next tick; listeners stay connected.
    }
  }

  onModuleDestroy() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
