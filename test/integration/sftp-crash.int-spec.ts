import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { newWorld, spawnHub, waitFor, type TestWorld } from '../support/hub-harness.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

// Generous: these spawn hub processes, which start slowly on a loaded machine.
const LONG = 300_000;

/**
 * Exactly once across crashes and processes: the built hub (dist/) as child processes polling a real
 * sshd. A hub killed between storing a file's messages and moving the file must not store them again
 * after a restart; two hubs polling one inbox take each file once.
 */
describe('SFTP exactly once (hub processes, real sshd)', () => {
  let sshd: TestSshd;
  let world: TestWorld;
  const children: ReturnType<typeof spawnHub>[] = [];
  const ls = (feed: string, folder: string) => readdirSync(path.join(sshd.root, feed, folder)).sort();
  const line = (i: number) => JSON.stringify({ sku: `SKU-${i}`, location: 'B-2', site: 'RNO1', expectedQty: 8, countedQty: i % 2 ? 7 : 8, uom: 'EA' });
  const hub = (extra: Record<string, string> = {}) => {
    const c = spawnHub(world, { HUB_POLL_TICK_MS: '100', HUB_POLL_LEASE_MS: '2000', SFTP_TEST_KEY: sshd.userPrivateKey, ...extra });
    children.push(c);
    return c;
  };
  const stop = async (c: ReturnType<typeof spawnHub>, signal: NodeJS.Signals) => {
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  };

  beforeAll(async () => {
    sshd = await startSshd(['crash', 'shared'].flatMap((f) => ['inbox', 'archive', 'error'].map((d) => `${f}/${d}`)));
    world = newWorld();
    for (const id of ['crash', 'shared']) {
      writeFileSync(
        path.join(world.connectorsDir, `${id}.json`),
        JSON.stringify({
          id, type: 'sftp', name: `SFTP ${id}`,
          config: {
            system: id, mapping: 'sftp-batch', host: '127.0.0.1', port: sshd.port, username: sshd.username, hostKeySha256: sshd.hostKeySha256,
            inbox: `/${id}/inbox`, archive: `/${id}/archive`, error: `/${id}/error`, format: 'jsonl', recordType: 'inventory-variance',
            batchRecords: 3, pollIntervalSeconds: 0.3, maxFilesPerPoll: 2,
          },
          secrets: { privateKey: { $env: 'SFTP_TEST_KEY' } },
        }),
      );
    }
  });
  afterAll(async () => {
    for (const c of children) await stop(c, 'SIGKILL');
    await world?.drop();
    await sshd?.dispose();
  });

  it('a hub killed after storing a file but before moving it: after restart the file is moved once and nothing is stored twice', async () => {
    writeFileSync(path.join(sshd.root, 'crash', 'inbox', 'counts.jsonl'), Array.from({ length: 10 }, (_, i) => line(i)).join('\n') + '\n');
    const first = hub({ HUB_TEST_POLL_PAUSE: 'ingested:600000' });
    await waitFor(async () => first.output().includes('poll paused at test checkpoint'), 120_000, 'the first hub to pause after ingest');
    const stored = (await world.db.query(`SELECT id, status, sender_event_id FROM inbound_messages WHERE connector_id = 'crash' AND meta->>'origin' = 'poll'`)).rows;
    expect(stored).toHaveLength(4);
    expect(stored.every((m) => m.status !== 'staged')).toBe(true);
    expect(ls('crash', 'inbox')).toEqual(['counts.jsonl']);
    await stop(first, 'SIGKILL');

    const second = hub();
    await waitFor(async () => ls('crash', 'archive').length === 1, 120_000, `the restarted hub to archive the file\n${second.output()}`);
    expect(ls('crash', 'inbox')).toEqual([]);
    const variances = await waitFor(async () => {
      const r = (await world.db.query(`SELECT count(*)::int AS n FROM exceptions WHERE connector_id = 'crash' AND code = 'WAREHOUSE.INVENTORY_VARIANCE'`)).rows[0].n;
      return r === 5 ? r : null;
    }, 90_000, 'five variances');
    expect(variances).toBe(5);
    const after = (await world.db.query(`SELECT id FROM inbound_messages WHERE connector_id = 'crash' AND meta->>'origin' = 'poll' ORDER BY id`)).rows;
    expect(after.map((r) => r.id).sort()).toEqual(stored.map((r) => r.id).sort());
    await stop(second, 'SIGTERM');
  }, LONG);

  it('two hubs polling the same inbox take each file exactly once', async () => {
    const a = hub();
    const b = hub();
    // SKUs of their own: the same variance as in the test above would count as a repeat (policy noise window).
    for (let f = 0; f < 8; f++) writeFileSync(path.join(sshd.root, 'shared', 'inbox', `batch-${f}.jsonl`), [line(100 + f * 2), line(100 + f * 2 + 1)].join('\n') + '\n');
    await waitFor(async () => ls('shared', 'archive').length === 8, 180_000, `eight files archived\n${a.output()}\n${b.output()}`);
    expect(ls('shared', 'inbox')).toEqual([]);
    expect(ls('shared', 'error')).toEqual([]);
    const rows = (await world.db.query(`SELECT meta->>'file' AS file, count(*)::int AS n FROM inbound_messages WHERE connector_id = 'shared' AND meta->>'origin' = 'poll' GROUP BY 1 ORDER BY 1`)).rows;
    expect(rows).toEqual(Array.from({ length: 8 }, (_, f) => ({ file: `batch-${f}.jsonl`, n: 1 })));
    await waitFor(async () => (await world.db.query(`SELECT count(*)::int AS n FROM exceptions WHERE connector_id = 'shared'`)).rows[0].n === 8, 90_000, 'one variance per file');
  }, LONG);
});
