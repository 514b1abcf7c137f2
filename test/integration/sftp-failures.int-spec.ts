import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunningHub } from '../../src/hub.js';
import { api, newWorld, sleep, startInProcess, waitFor, type TestWorld } from '../support/hub-harness.js';
import { startSshd, type TestSshd } from '../support/sshd.js';
import { fixture } from '../support/x12-fixtures.js';

const FEEDS = ['perm', 'drop', 'done', 'age', 'silent', 'full'];
const LONG = 120_000;

/** A tiny tmpfs is how a full remote disk is emulated; it needs root and permission to mount. */
const canMount = (() => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hub-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();

/**
 * SFTP failure paths against a real OpenSSH sshd, logged in as the unprivileged user "nobody" so that
 * permissions taken away with chmod really apply (root would ignore them). Each failure must be
 * retried with backoff and visible in GET /v1/connectors/{id}/status, and no file may be lost or
 * taken twice. Every stored batch pauses the poll for 250 ms (HUB_TEST_POLL_PAUSE) so that a
 * connection can be cut while a file is open and half read.
 */
describe('SFTP failure paths (real sshd, unprivileged login)', () => {
  let sshd: TestSshd;
  let world: TestWorld;
  let hub: RunningHub & { url: string };
  let mounted: string | undefined;
  const dirOf = (feed: string, folder: string) => path.join(sshd.root, feed, folder);
  const ls = (feed: string, folder: string) => readdirSync(dirOf(feed, folder)).sort();
  const status = async (id: string) => (await api(hub.url, 'GET', `/v1/connectors/${id}/status`)).body;
  const create = async (id: string, config: Record<string, unknown>) => {
    const res = await api(hub.url, 'POST', '/v1/connectors', {
      body: {
        id, type: 'sftp', name: `SFTP ${id}`,
        config: {
          system: `sftp-${id}`, mapping: 'sftp-batch', host: '127.0.0.1', port: sshd.port, username: sshd.username, hostKeySha256: sshd.hostKeySha256,
          inbox: `/${id}/inbox`, archive: `/${id}/archive`, error: `/${id}/error`, pollIntervalSeconds: 0.3, connectTimeoutSeconds: 5,
          format: 'csv', glob: '*.csv', recordType: 'short-ship', ...config,
        },
        secrets: { privateKey: sshd.userPrivateKey },
      },
    });
    expect(res.status).toBe(201);
  };
  const messages = async (id: string) =>
    (await world.db.query(`SELECT id, status, sender_event_id, received_at, meta FROM inbound_messages WHERE connector_id = $1 AND meta->>'origin' = 'poll' ORDER BY sender_event_id`, [id])).rows;
  const cases = async (code: string, key: string) =>
    (await api(hub.url, 'GET', `/v1/cases?code=${code}`)).body.items.filter((c: { correlationKey: string }) => c.correlationKey === key);
  /** Shipments, every `shortEvery`th one short (distinct orders and SKUs, so none counts as a repeat of another). */
  const csv = (feed: string, rows: number, shortEvery = 10) =>
    ['Order No,Customer,SKU,Ordered,Shipped,UOM,Site,Reason', ...Array.from({ length: rows }, (_, i) => `SO-${feed}-${i},C-1,SKU-${feed}-${i},5,${i % shortEvery === 0 ? 2 : 5},EA,RNO1,`)].join('\n') + '\n';
  const columns = { 'Order No': 'order', Customer: 'customer', SKU: 'sku', Ordered: 'ordered', Shipped: 'shipped', UOM: 'uom', Site: 'site', Reason: 'reason' };

  beforeAll(async () => {
    sshd = await startSshd(FEEDS.flatMap((f) => ['inbox', 'archive', 'error', 'outbox'].map((d) => `${f}/${d}`)), { user: 'nobody' });
    world = newWorld();
    hub = await startInProcess(world, { HUB_POLL_TICK_MS: '100', HUB_POLL_LEASE_MS: '5000', HUB_TEST_POLL_PAUSE: 'batch-stored:250' });
  });
  afterAll(async () => {
    await hub?.close();
    await world?.drop();
    if (mounted) execFileSync('umount', [mounted]);
    await sshd?.dispose();
  });

  it('permission denied on the inbox: retried with backoff, CONNECTOR_DOWN, then the file is taken once access is back', async () => {
    writeFileSync(path.join(dirOf('perm', 'inbox'), 'first.csv'), csv('perm', 3));
    chmodSync(dirOf('perm', 'inbox'), 0o000);
    await create('perm', { downAfterFailures: 3, csv: { columns } });
    const down = await waitFor(async () => {
      const s = await status('perm');
      return s.polling?.consecutiveFailures >= 3 && s.health === 'down' ? s : null;
    }, 30000, 'three failed polls');
    expect(down.polling.lastError).toMatchObject({ kind: 'permission', message: expect.stringMatching(/list \/perm\/inbox: .*Permission denied/) });
    // Backoff: the wait before the next poll doubles from the 0.3 s interval per failure (±20 % jitter).
    const [row] = (await world.db.query(`SELECT consecutive_failures AS n, extract(epoch FROM next_poll_at - last_poll_at) AS wait FROM connector_poll_state WHERE connector_id = 'perm'`)).rows;
    expect(Number(row.wait)).toBeGreaterThanOrEqual(0.3 * 2 ** (row.n - 1) * 0.8 - 0.05);
    expect(await cases('INTEGRATION.CONNECTOR_DOWN', 'connector-down:perm')).toHaveLength(1);

    chmodSync(dirOf('perm', 'inbox'), 0o755);
    await waitFor(async () => ls('perm', 'archive').length === 1, 30000, 'the file archived once access is back');
    const s = await status('perm');
    expect(s.polling.consecutiveFailures).toBe(0);
    expect(s.health).not.toBe('down');
    await waitFor(async () => (await cases('INTEGRATION.CONNECTOR_DOWN', 'connector-down:perm'))[0]?.status === 'resolved', 15000, 'CONNECTOR_DOWN resolved');
  });

  it('permission denied on the archive: the file is stored once, stays in the inbox, and is only moved (never re-read) once the archive is writable', async () => {
    chmodSync(dirOf('perm', 'archive'), 0o555);
    try {
      writeFileSync(path.join(dirOf('perm', 'inbox'), 'second.csv'), csv('perm2', 4));
      const failed = await waitFor(async () => {
        const st = await status('perm');
        return st.polling?.consecutiveFailures >= 2 ? st : null;
      }, 30000, 'failed moves');
      expect(failed.polling.lastError).toMatchObject({ kind: 'permission', message: expect.stringMatching(/move \/perm\/inbox\/second\.csv to \/perm\/archive\/second\.csv\.\d+T\d+Z: .*Permission denied/) });
      expect(ls('perm', 'inbox')).toEqual(['second.csv']);
      const stored = (await messages('perm')).filter((m) => m.meta.file === 'second.csv');
      expect(stored).toHaveLength(1);
      expect(stored[0].status).not.toBe('staged');
    } finally {
      chmodSync(dirOf('perm', 'archive'), 0o755);
    }
    await waitFor(async () => ls('perm', 'archive').length === 2, 30000, 'the file archived');
    expect(ls('perm', 'inbox')).toEqual([]);
    expect((await messages('perm')).filter((m) => m.meta.file === 'second.csv')).toHaveLength(1);
    // 1 short row of 4: one exception, not one per retried poll.
    await waitFor(async () => (await world.db.query(`SELECT count(*)::int AS n FROM exceptions WHERE connector_id = 'perm' AND code = 'WAREHOUSE.PICK_SHORTFALL'`)).rows[0].n === 2, 20000, 'one shortfall per file');
  });

  it('connection dropped while a file is half read: nothing of it is released, the file stays; after recovery it is stored exactly once', async () => {
    // ~2 MB: far more than the read-ahead (256 KiB SFTP reads, 16 KiB stream buffers), so most of the
    // file is still on the server when the connection goes.
    const rows = 45_000;
    writeFileSync(path.join(dirOf('drop', 'inbox'), 'big.csv'), csv('drop', rows, 1000));
    // A 1 s interval: the failed poll's error is still the last one when the test looks (the next
    // poll, a second later, finds the server stopped).
    await create('drop', { batchRecords: 1500, downAfterFailures: 100, pollIntervalSeconds: 1, csv: { columns } });
    // 30 batches at 250 ms each: cut the connection once a few are stored.
    const early = await waitFor(async () => {
      const m = await messages('drop');
      return m.length >= 3 ? m : null;
    }, 30000, 'the first batches stored');
    expect(sshd.killSessions()).toBeGreaterThan(0);
    await sshd.stop();
    try {
      const failed = await waitFor(async () => {
        const st = await status('drop');
        return st.polling?.consecutiveFailures >= 1 ? st : null;
      }, 30000, 'the poll to fail');
      expect(failed.polling.lastError).toMatchObject({ kind: 'connection-lost', message: expect.stringMatching(/^read \/drop\/inbox\/big\.csv: the connection to the server was lost after \d+ of 2047834 bytes/) });
      const during = await messages('drop');
      expect(during.length).toBeLessThan(30);
      expect(during.every((m) => m.status === 'staged')).toBe(true);
      expect(ls('drop', 'inbox')).toEqual(['big.csv']);
      expect(ls('drop', 'archive')).toEqual([]);
    } finally {
      await sshd.start();
    }
    await waitFor(async () => ls('drop', 'archive').length === 1, 60000, 'the file archived after recovery');
    const after = await messages('drop');
    expect(after).toHaveLength(30);
    expect(new Set(after.map((m) => m.sender_event_id)).size).toBe(30);
    expect(after.every((m) => m.status !== 'staged')).toBe(true);
    // The batches stored before the drop were kept and released, not stored again.
    expect(after.filter((m) => early.some((e: { id: string }) => e.id === m.id))).toHaveLength(early.length);
    const [{ total }] = (await world.db.query(
      `SELECT sum(array_length(string_to_array(convert_from(raw, 'UTF8'), E'\\n'), 1))::int AS total FROM inbound_messages WHERE connector_id = 'drop' AND meta->>'origin' = 'poll'`,
    )).rows;
    expect(total).toBe(rows);
    await waitFor(async () => (await world.db.query(`SELECT count(*)::int AS n FROM exceptions WHERE connector_id = 'drop' AND code = 'WAREHOUSE.PICK_SHORTFALL'`)).rows[0].n === rows / 1000, 90000, 'one shortfall per short row');
  }, LONG);

  it('done-file mode: a file waits for its companion, then is taken and the companion removed', async () => {
    await create('done', { stable: { twoLooks: false, doneSuffix: '.done' }, glob: '*', csv: { columns } });
    writeFileSync(path.join(dirOf('done', 'inbox'), 'orders.csv'), csv('done', 2));
    await waitFor(async () => (await status('done')).polling?.lastOutcome?.waitingForStableFiles?.includes('orders.csv'), 15000, 'the file listed as waiting');
    await sleep(1000);
    expect(ls('done', 'inbox')).toEqual(['orders.csv']);
    expect(await messages('done')).toEqual([]);
    writeFileSync(path.join(dirOf('done', 'inbox'), 'orders.csv.done'), '');
    await waitFor(async () => ls('done', 'archive').length === 1, 15000, 'the file archived');
    await waitFor(async () => ls('done', 'inbox').length === 0, 15000, 'the companion removed');
    // The companion itself is never read as data, even though the glob matches it.
    expect((await messages('done')).map((m) => m.meta.file)).toEqual(['orders.csv']);
  });

  it('minimum-age mode: a file is taken only once it is older than minAgeSeconds', async () => {
    await create('age', { stable: { twoLooks: false, minAgeSeconds: 3 }, csv: { columns } });
    const file = path.join(dirOf('age', 'inbox'), 'young.csv');
    writeFileSync(file, csv('age', 2));
    const mtime = statSync(file).mtimeMs;
    await waitFor(async () => (await status('age')).polling?.lastOutcome?.waitingForStableFiles?.includes('young.csv'), 15000, 'the file listed as waiting');
    await waitFor(async () => ls('age', 'archive').length === 1, 20000, 'the file archived');
    const [m] = await messages('age');
    // sftp reports whole seconds: allow for the truncated mtime.
    expect(new Date(m.received_at).getTime() - mtime).toBeGreaterThanOrEqual(2000);
  });

  it('FEED_SILENT: an inbox empty longer than silentAfterMinutes raises one exception; the next file resolves it', async () => {
    await create('silent', { silentAfterMinutes: 1, csv: { columns } });
    await waitFor(async () => (await status('silent')).polling?.lastSuccessAt, 15000, 'a first successful poll');
    expect((await status('silent')).polling.silent).toBe(false);
    // Two minutes without a file, without waiting two minutes: the time of the last file moves back.
    await world.db.query(`UPDATE connector_poll_state SET last_item_at = now() - interval '2 minutes' WHERE connector_id = 'silent'`);
    await waitFor(async () => (await status('silent')).polling.silent, 15000, 'the feed reported silent');
    await sleep(1500); // more empty polls: still one case
    const open = await cases('INTEGRATION.FEED_SILENT', 'feed-silent:silent');
    expect(open).toHaveLength(1);
    expect(open[0].title).toMatch(/Nothing received from SFTP silent for 2 min \(expected within 1 min\)/);
    writeFileSync(path.join(dirOf('silent', 'inbox'), 'late.csv'), csv('silent', 1));
    await waitFor(async () => !(await status('silent')).polling.silent, 20000, 'silence cleared by the new file');
    await waitFor(async () => (await cases('INTEGRATION.FEED_SILENT', 'feed-silent:silent'))[0]?.status === 'resolved', 15000, 'FEED_SILENT resolved');
  });

  (canMount ? it : it.skip)('remote disk full (tmpfs outbox): the acknowledgment waits and is delivered once there is space; inbound files are still taken', async () => {
    mounted = dirOf('full', 'outbox');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k,uid=65534,gid=65534,mode=0755', 'tmpfs', mounted]);
    const filler = path.join(mounted, 'filler.bin');
    try {
      writeFileSync(filler, Buffer.alloc(64 * 1024));
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    await create('full', {
      format: 'x12', mapping: 'x12-documents', glob: '*.edi', outbox: '/full/outbox', downAfterFailures: 100,
      x12: { us: { qualifier: 'ZZ', id: 'ACMEHOME' }, partners: [{ id: 'reno-3pl', name: 'Reno 3PL', isa: { qualifier: 'ZZ', id: 'RENOWMS' }, ack: '997' }] },
    });
    writeFileSync(path.join(dirOf('full', 'inbox'), 'first.edi'), fixture('generated/947-damaged.edi'));
    const failed = await waitFor(async () => {
      const st = await status('full');
      return st.polling?.lastError?.kind === 'server-failure' && st.polling.consecutiveFailures >= 1 ? st : null;
    }, 60000, 'the 997 write to fail').catch(async (e) => {
      throw new Error(`${e.message}\n${JSON.stringify(await status('full'))}\n${JSON.stringify(ls('full', 'outbox'))} ${JSON.stringify(ls('full', 'archive'))}`);
    });
    // Either the server's refusal, or our size check after a write it did not keep (see writeAtomically).
    expect(failed.polling.lastError.message).toMatch(/\/full\/outbox\/\.997_.*(the server kept 0 of \d+ bytes|Failure)/);
    expect(ls('full', 'outbox')).toEqual(['filler.bin']);
    // A file arriving meanwhile is still taken: a full outbox does not stop the inbox.
    const x12 = fixture('generated/947-damaged.edi').toString('latin1');
    writeFileSync(path.join(dirOf('full', 'inbox'), 'second.edi'), x12.replace(/\*(\d{9})\*0\*/, '*000000777*0*').replace(/IEA\*1\*\d{9}/, 'IEA*1*000000777'), 'latin1');
    await waitFor(async () => ls('full', 'archive').length === 2, 30000, 'both inbound files archived');
    rmSync(filler);
    await waitFor(async () => ls('full', 'outbox').filter((n) => n.startsWith('997_')).length === 2, 30000, 'both 997s delivered once there is space');
    expect(ls('full', 'outbox').filter((n) => n.startsWith('.'))).toEqual([]);
    await waitFor(async () => (await status('full')).polling.consecutiveFailures === 0, 15000, 'a successful poll');
  }, LONG);
});
