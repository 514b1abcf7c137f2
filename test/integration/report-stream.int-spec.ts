import pg from 'pg';
import { ADMIN_KEY, DATABASE_URL, newWorld, pickShortfall, postWebhook, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';

/** The dashboard's change stream (/v1/reports/stream) stays live while long transactions run, and misses no late commit. */
describe('report change stream', () => {
  let world: TestWorld;
  let hub: Awaited<ReturnType<typeof startInProcess>>;
  const held: pg.Client[] = [];

  beforeAll(async () => {
    world = newWorld();
    hub = await startInProcess(world);
  });
  afterAll(async () => {
    for (const c of held) await c.end().catch(() => undefined);
    await hub?.close();
    await world?.drop();
  });

  async function openStream() {
    const ctl = new AbortController();
    const res = await fetch(`${hub.url}/v1/reports/stream`, { headers: { authorization: `Bearer ${ADMIN_KEY}` }, signal: ctl.signal });
    const reader = res.body!.getReader();
    const state = { text: '' };
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          state.text += Buffer.from(value).toString('utf8');
        }
      } catch {
        // aborted
      }
    })();
    return { changes: () => (state.text.match(/^event: changed$/gm) ?? []).length, close: () => ctl.abort() };
  }

  it('announces a new case within seconds while an unrelated transaction holds the snapshot horizon back', async () => {
    const blocker = new pg.Client({ connectionString: DATABASE_URL });
    await blocker.connect();
    held.push(blocker);
    await blocker.query('BEGIN');
    await blocker.query('SELECT pg_current_xact_id()'); // an xid: everyone's snapshot xmin stays at or below it
    const stream = await openStream();
    expect((await postWebhook(hub.url, world, pickShortfall('SO-STREAM-1'))).status).toBe(202);
    await waitFor(async () => stream.changes() >= 1, 8000, 'a changed event despite the open transaction');
    await blocker.query('ROLLBACK');
    stream.close();
  });

  it('a change whose transaction commits after a later one is still announced', async () => {
    const stream = await openStream();
    const late = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${world.schema}` });
    await late.connect();
    held.push(late);
    await late.query('BEGIN');
    await late.query(`INSERT INTO outbox_events (type, entity_type, entity_id, payload) VALUES ('case.updated', 'case', 'late-1', '{}')`);
    expect((await postWebhook(hub.url, world, pickShortfall('SO-STREAM-2'))).status).toBe(202);
    await waitFor(async () => stream.changes() >= 1, 8000, 'the later change');
    const before = stream.changes();
    await late.query('COMMIT');
    // The exact path waits for the snapshot horizon: for every older transaction in the cluster to end.
    await waitFor(async () => stream.changes() > before, 20000, 'the late commit announced too');
    stream.close();
  });
});
