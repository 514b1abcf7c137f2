import { appendFileSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse';
import pg from 'pg';
import SftpClient from 'ssh2-sftp-client';
import { generate856 } from './lib/x12-generate.js';
import { cleanup, freePort, newWorld, productionNodeFlags, sleep, spawnHub, stopHub, waitReady } from './lib/hub-process.js';
import { peakRssMiB } from './lib/procfs.js';
import { prng } from './lib/prng.js';
import { startSshd } from './lib/sshd.js';

/**
 * SFTP batch-file ingestion (issue 7): a large CSV and a large X12 file dropped in a real OpenSSH
 * sshd's inbox, polled by the hub (one process, all roles) and streamed into stored record batches /
 * interchanges. Reports ingest time (file seen → archived), pipeline drain time, rows/s, MB/s and the
 * hub's peak RSS (VmHWM), next to a bare ssh2-sftp-client stream + csv-parse of the same file.
 *
 *   npm run bench:sftp -- [--csv-mb=1000] [--x12-mb=200] [--drain-timeout=900] [--x12-drain-timeout=<drain-timeout>]
 */
const arg = (name: string, dflt: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const CSV_MB = arg('csv-mb', 1000);
const X12_MB = arg('x12-mb', 200);
const DRAIN_S = arg('drain-timeout', 900);
// The X12 drain runs every 856 through mapping and PO matching and is much slower per MB: its own limit.
const X12_DRAIN_S = arg('x12-drain-timeout', DRAIN_S);
const MB = 1e6;
// The hub runs with the Node flags it is started with in production (scripts/start-hub.sh, e.g.
// --heap-growing-percent); BENCH_HUB_NODE_ARGS replaces them ("" for plain node).
const HUB_FLAGS = process.env.BENCH_HUB_NODE_ARGS ?? productionNodeFlags();

function writeCsv(file: string, mb: number): number {
  const rand = prng(7);
  const out: string[] = ['Order No,Customer,SKU,Ordered,Shipped,UOM,Site,Reason,Unit Price,Carrier,Tracking,Ship Date,Notes'];
  let bytes = 0;
  let rows = 0;
  writeFileSync(file, '');
  while (bytes < mb * MB) {
    for (let i = 0; i < 5000; i++) {
      rows++;
      const ordered = 1 + Math.floor(rand() * 40);
      const shipped = rand() < 0.01 ? Math.floor(ordered * rand()) : ordered;
      const l = `SO-${String(100000 + (rows >> 2)).padStart(8, '0')},C-${1000 + (rows % 997)},SKU-${String(rows % 50021).padStart(6, '0')},${ordered},${shipped},EA,RNO${1 + (rows % 3)},${shipped < ordered ? 'short on hand' : ''},${(rand() * 200).toFixed(2)},UPSN,1Z${String(rows).padStart(16, '0')},2026-11-27,"picked by wave ${rows % 311}, dock ${rows % 7}"`;
      out.push(l);
      bytes += l.length + 1;
    }
    appendFileSync(file, out.join('\n') + '\n');
    out.length = 0;
  }
  return rows;
}

/** Many interchanges (the generator writes one), each with its own ISA13 so none is a resend. */
function writeX12(file: string, mb: number, tmp: string): { bytes: number; interchanges: number } {
  writeFileSync(file, '');
  let n = 0;
  while (statSync(file).size < mb * MB) {
    n++;
    generate856(tmp, { mb: 2, seed: 856 + n, newlines: true });
    const isa13 = String(n).padStart(9, '0');
    let text = readFileSync(tmp, 'latin1');
    text = text.slice(0, 90) + isa13 + text.slice(99);
    text = text.replace(/IEA\*1\*\d{9}~/, `IEA*1*${isa13}~`);
    appendFileSync(file, text, 'latin1');
  }
  rmSync(tmp, { force: true });
  return { bytes: statSync(file).size, interchanges: n };
}

async function bareRead(port: number, user: string, key: string, hostKeySha256: string, remote: string) {
  const c = new SftpClient();
  await c.connect({ host: '127.0.0.1', port, username: user, privateKey: key });
  const t = performance.now();
  let rows = 0;
  const src = c.createReadStream(remote, { highWaterMark: 256 * 1024 });
  const p = src.pipe(parse({ relax_column_count: true }));
  src.on('error', (e) => p.destroy(e));
  for await (const _ of p) rows++;
  const s = (performance.now() - t) / 1000;
  await c.end();
  void hostKeySha256;
  return { seconds: s, rows };
}

async function main() {
  const sshd = await startSshd(['csv/inbox', 'csv/archive', 'csv/error', 'x12/inbox', 'x12/archive', 'x12/error', 'x12/outbox', 'gen']);
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const world = newWorld(databaseUrl, process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const base = { type: 'sftp', secrets: { privateKey: { $env: 'BENCH_SFTP_KEY' } } };
  const common = { host: '127.0.0.1', port: sshd.port, username: sshd.username, hostKeySha256: sshd.hostKeySha256, pollIntervalSeconds: 1, stable: { twoLooks: true } };
  writeFileSync(path.join(world.connectorsDir, 'bench-csv.json'), JSON.stringify({ ...base, id: 'bench-csv', name: 'bench CSV', config: { ...common, system: 'bench-csv', mapping: 'sftp-batch', inbox: '/csv/inbox', archive: '/csv/archive', error: '/csv/error', format: 'csv', recordType: 'short-ship', batchRecords: 500, csv: { columns: { 'Order No': 'order', Customer: 'customer', SKU: 'sku', Ordered: 'ordered', Shipped: 'shipped', UOM: 'uom', Site: 'site', Reason: 'reason', 'Unit Price': 'unitPrice' } } } }));
  writeFileSync(path.join(world.connectorsDir, 'bench-x12.json'), JSON.stringify({ ...base, id: 'bench-x12', name: 'bench X12', config: { ...common, system: 'bench-x12', mapping: 'x12-documents', inbox: '/x12/inbox', archive: '/x12/archive', error: '/x12/error', outbox: '/x12/outbox', format: 'x12', x12: { us: { qualifier: 'ZZ', id: 'BIGRETAILER' }, partners: [{ id: 'acmedist', name: 'Acme Distribution', isa: { qualifier: 'ZZ', id: 'ACMEDIST' }, ack: '997' }] } } }));

  const gen = path.join(sshd.root, 'gen');
  console.log(`generating ${CSV_MB} MB CSV and ${X12_MB} MB X12 ...`);
  const csvRows = writeCsv(path.join(gen, 'shipments.csv'), CSV_MB);
  const csvBytes = statSync(path.join(gen, 'shipments.csv')).size;
  const x12 = writeX12(path.join(gen, 'asn.edi'), X12_MB, path.join(gen, 'one.edi'));
  const bare = await bareRead(sshd.port, sshd.username, sshd.userPrivateKey, sshd.hostKeySha256, '/gen/shipments.csv').catch(async (e) => {
    await sshd.dispose();
    throw e;
  });

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  console.log(`hub node flags: ${HUB_FLAGS || '(none)'}`);
  const hub = spawnHub(world, 'hub', { PORT: String(port), BENCH_SFTP_KEY: sshd.userPrivateKey, HUB_POLL_TICK_MS: '200', HUB_WORKER_CONCURRENCY: '2' });
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2, options: `-c search_path=${world.tag}` });
  // An idle pooled connection ended by the server (e.g. pg_terminate_backend by another job on a
  // shared machine) must not crash the bench and leave the hub and sshd running: the pool reconnects.
  db.on('error', (e) => console.warn(`bench db connection lost: ${e.message}`));
  const results: Record<string, unknown>[] = [];
  try {
    await waitReady(hub, url);
    for (const [id, file, folder, bytes, units, unit, drainLimitS] of [
      ['bench-csv', 'shipments.csv', 'csv', csvBytes, csvRows, 'rows', DRAIN_S],
      ['bench-x12', 'asn.edi', 'x12', x12.bytes, x12.interchanges, 'interchanges', X12_DRAIN_S],
    ] as const) {
      const t0 = performance.now();
      renameSync(path.join(gen, file), path.join(sshd.root, folder, 'inbox', file));
      let ingestS = NaN;
      let drainS = NaN;
      // Peak resident memory of the hub per phase (VmRSS sampled every 250 ms; VmHWM is whole-life).
      let ingestRss = 0;
      let drainRss = 0;
      // 0 once the hub has exited (the run then reports what it got and says the hub died).
      const rss = () => {
        try {
          return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${hub.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
        } catch {
          return 0;
        }
      };
      const sampler = setInterval(() => {
        const r = rss();
        if (Number.isNaN(ingestS)) ingestRss = Math.max(ingestRss, r);
        else drainRss = Math.max(drainRss, r);
      }, 250);
      const until = Date.now() + drainLimitS * 1000;
      while (Date.now() < until) {
        await sleep(500);
        const [r] = (await db.query(`SELECT count(*) FILTER (WHERE status IN ('staged','received'))::int AS waiting, count(*)::int AS n FROM inbound_messages WHERE connector_id = $1 AND meta->>'origin' = 'poll'`, [id])).rows;
        const archived = (await import('node:fs')).readdirSync(path.join(sshd.root, folder, 'archive')).length > 0;
        if (archived && Number.isNaN(ingestS)) ingestS = (performance.now() - t0) / 1000;
        if (archived && r.waiting === 0) {
          drainS = (performance.now() - t0) / 1000;
          break;
        }
      }
      clearInterval(sampler);
      const [m] = (await db.query(`SELECT count(*)::int AS messages, count(*) FILTER (WHERE status NOT IN ('staged','received'))::int AS processed, coalesce(sum(exception_count),0)::int AS exceptions FROM inbound_messages WHERE connector_id = $1 AND meta->>'origin' = 'poll'`, [id])).rows;
      // When the drain timed out: how far the pipeline got (processed messages, seconds since the drop).
      const partial = Number.isNaN(drainS) ? { processedAfterS: +((performance.now() - t0) / 1000).toFixed(1) } : {};
      results.push({ file, MB: +(bytes / MB).toFixed(1), [unit]: units, messages: m.messages, processed: m.processed, ...partial, exceptions: m.exceptions, ingestS: +ingestS.toFixed(1), ingestMBps: +(bytes / MB / ingestS).toFixed(1), ingestPerS: Math.round(units / ingestS), drainS: +drainS.toFixed(1), drainPerS: Math.round(units / drainS), peakRssIngestMiB: Math.round(ingestRss), peakRssAfterIngestMiB: Math.round(drainRss) });
      console.log(results.at(-1));
    }
    results.push(hub.child.exitCode === null && hub.child.signalCode === null ? { hubPeakRssMiB: +peakRssMiB(hub.pid).toFixed(0) } : { hubDied: hub.output().slice(-2000) });
    results.push({ bare: 'ssh2-sftp-client stream + csv-parse (no database)', MB: +(csvBytes / MB).toFixed(1), rows: bare.rows - 1, seconds: +bare.seconds.toFixed(1), MBps: +(csvBytes / MB / bare.seconds).toFixed(1), rowsPerS: Math.round(bare.rows / bare.seconds) });
    console.log(JSON.stringify(results, null, 2));
    // The hub logs at warn: failed or split pipeline jobs, poll failures. Shown so a slow drain can be explained.
    console.log(`--- hub output (last 4 KB, ${hub.lines()} lines in all) ---\n${hub.output().slice(-4096)}`);
  } finally {
    await db.end();
    await stopHub(hub);
    console.log((await cleanup(world)).join('\n'));
    await sshd.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
