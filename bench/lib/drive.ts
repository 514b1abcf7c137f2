import type pg from 'pg';
import type { Pool } from 'undici';
import { signRange, type BenchEvent } from './events.js';
import { sleep } from './hub-process.js';

export interface Phase {
  sent: number;
  statuses: Record<string, number>;
  /** HTTP round trip of every 202, ms. */
  acceptMs: Float64Array;
  /** Message ids of the 202s, with the time each 202 arrived and (if seen) the case became visible. */
  ids: string[];
  acceptedAt: number[];
  visibleAt: Map<string, number>;
  t0: number;
  sendEnd: number;
  lastVisible: number;
  maxLagMs: number;
  unresolved: number;
}

export interface DriveOptions {
  path: string;
  rate: number;
  concurrency: number;
  pollMs: number;
  drainMs: number;
  secret: string;
}

// Signatures are made ahead of time (up to 200 s of traffic), and made again in 1 s chunks for
// events not yet signed or signed over 240 s ago (long or lagging runs): the hub refuses
// webhook-timestamps more than 300 s away from its clock.
const SIGN_AHEAD_S = 200;
const RESIGN_AFTER_S = 240;
// The poller asks about the oldest pending ids only, and less often once a backlog builds up
// (latencies are then seconds): polling must not take CPU from the hub it is measuring.
const POLL_BATCH = 1000;
const BACKLOG_POLL_MS = 100;

/**
 * Open-loop load at `rate` events/s over keep-alive connections (at most `concurrency` in flight;
 * when all are busy the sender falls behind schedule and maxLagMs shows it), while a poller asks
 * PostgreSQL which accepted messages already have their exception stored with a case.
 * Visibility time = start of the first poll that saw the row, so it is late by at most pollMs
 * (100 ms once more than 1,000 accepted events are waiting).
 */
export async function drive(http: Pool, db: pg.Pool, events: BenchEvent[], from: number, to: number, o: DriveOptions): Promise<Phase> {
  const total = to - from;
  const ph: Phase = {
    sent: 0,
    statuses: {},
    acceptMs: new Float64Array(total),
    ids: [],
    acceptedAt: [],
    visibleAt: new Map(),
    t0: 0,
    sendEnd: 0,
    lastVisible: 0,
    maxLagMs: 0,
    unresolved: 0,
  };
  let accepted = 0;
  let inflight = 0;
  signRange(events, from, from + Math.min(total, o.rate * SIGN_AHEAD_S), o.secret);
  const pending = new Map<string, number>();
  const count = (k: string) => (ph.statuses[k] = (ph.statuses[k] ?? 0) + 1);

  const fire = (e: BenchEvent) => {
    inflight++;
    const started = performance.now();
    http
      .request({
        path: o.path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': e.id, 'webhook-timestamp': e.ts!, 'webhook-signature': e.sig! },
        body: e.body,
      })
      .then(async (res) => {
        const text = await res.body.text();
        const t = performance.now();
        count(String(res.statusCode));
        if (res.statusCode !== 202) return;
        ph.acceptMs[accepted++] = t - started;
        const id = (JSON.parse(text) as { messageId: string }).messageId;
        ph.ids.push(id);
        ph.acceptedAt.push(t);
        pending.set(id, t);
      })
      .catch((err: NodeJS.ErrnoException) => count(`error:${err.code ?? err.message}`))
      .finally(() => inflight--);
  };

  ph.t0 = performance.now();
  let sending = true;
  const poller = (async () => {
    let drainUntil = Infinity;
    while (sending || pending.size) {
      if (!sending && drainUntil === Infinity) drainUntil = performance.now() + o.drainMs;
      if (performance.now() > drainUntil) break;
      const t = performance.now();
      if (pending.size) {
        const ids: string[] = [];
        for (const k of pending.keys()) if (ids.push(k) >= POLL_BATCH) break;
        const { rows } = await db.query<{ message_id: string }>(
          `SELECT DISTINCT message_id FROM exceptions WHERE message_id = ANY($1::uuid[]) AND case_id IS NOT NULL`,
          [ids],
        );
        for (const r of rows) {
          if (!pending.delete(r.message_id)) continue;
          ph.visibleAt.set(r.message_id, t);
          ph.lastVisible = t;
        }
      }
      const wait = (pending.size > POLL_BATCH ? Math.max(o.pollMs, BACKLOG_POLL_MS) : o.pollMs) - (performance.now() - t);
      if (wait > 0) await sleep(wait);
    }
  })();

  while (ph.sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - ph.t0) / 1000) * o.rate) + 1);
    while (ph.sent < due && inflight < o.concurrency) {
      const lag = now - (ph.t0 + (ph.sent / o.rate) * 1000);
      if (lag > ph.maxLagMs) ph.maxLagMs = lag;
      const i = from + ph.sent++;
      if (!events[i].ts || Date.now() / 1000 - Number(events[i].ts) > RESIGN_AFTER_S) signRange(events, i, Math.min(to, i + Math.ceil(o.rate)), o.secret);
      fire(events[i]);
    }
    await sleep(1);
  }
  while (inflight > 0) await sleep(1);
  ph.sendEnd = performance.now();
  sending = false;
  await poller;
  ph.acceptMs = ph.acceptMs.subarray(0, accepted);
  ph.unresolved = pending.size;
  return ph;
}
