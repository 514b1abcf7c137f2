import { createHash } from 'node:crypto';
import path from 'node:path/posix';
import { Transform } from 'node:stream';
import type SftpClient from 'ssh2-sftp-client';
import type { FileInfo } from 'ssh2-sftp-client';
import { PollFailure, type PollContext, type PollOutcome, type ResolvedInstance } from '../../src/connectors/connector.js';
import type { SftpConfig, SftpSecrets } from './config.js';
import { classify } from './session.js';
import { FileRefused, splitterFor } from './splitters.js';

/** What the ledger knows about one file (key `file:<name>:<size>:<mtime>`). */
interface LedgerEntry {
  status: 'ingesting' | 'ingested' | 'duplicate' | 'refused';
  group: string;
  sha256?: string;
  messages?: number;
  reason?: string;
  duplicateOf?: string;
  at: string;
}

type Instance = ResolvedInstance<SftpConfig, SftpSecrets>;

/** `*` and `?` wildcards, matched against the whole file name. */
export function globMatcher(glob: string): (name: string) => boolean {
  const re = new RegExp('^' + glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return (name) => re.test(name);
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/**
 * One poll of an SFTP inbox: deliver waiting outbound files, then take the stable files, oldest
 * first, streaming each into stored record batches (held back until the whole file is stored),
 * and move it to the archive (or the error folder with `<name>.error.txt`).
 *
 * Exactly once: the ledger entry for name+size+mtime is written with the release of the file's
 * messages in one transaction; a file whose entry says ingested is only moved, never read again;
 * one whose content hash matches an ingested file is a duplicate. A poll that dies mid-file leaves
 * staged messages that the next poll re-stores under the same keys (no duplicates), then releases.
 */
export async function pollInbox(sftp: SftpClient, instance: Instance, ctx: PollContext): Promise<PollOutcome> {
  const cfg = instance.config;
  // A full or read-only outbox must not hold back inbound files: the inbox is still taken, and the
  // poll then fails with the outbox's error (retried with backoff, shown in the connector status).
  let outboxFailure: PollFailure | undefined;
  let delivered = 0;
  if (cfg.outbox) {
    try {
      delivered = await deliverOutbound(sftp, cfg.outbox, ctx);
    } catch (e) {
      outboxFailure = classify(e, 'deliver to outbox');
      if (outboxFailure.kind !== 'permission' && outboxFailure.kind !== 'server-failure') throw outboxFailure;
    }
  }
  const matches = globMatcher(cfg.glob);
  let listing: FileInfo[];
  try {
    listing = await sftp.list(cfg.inbox);
  } catch (e) {
    throw classify(e, `list ${cfg.inbox}`);
  }
  const names = new Set(listing.map((f) => f.name));
  const files = listing.filter((f) => f.type === '-' && matches(f.name) && !(cfg.stable.doneSuffix && f.name.endsWith(cfg.stable.doneSuffix)));
  files.sort((a, b) => (cfg.sort === 'name' ? a.name.localeCompare(b.name) : cfg.sort === 'newest' ? b.modifyTime - a.modifyTime : a.modifyTime - b.modifyTime));
  let ingested = 0;
  let deferred = 0;
  let taken = 0;
  const waiting: string[] = [];
  for (const f of files) {
    if (taken >= cfg.maxFilesPerPoll || ctx.signal.aborted) break;
    if (!(await isStable(f, cfg, ctx, names))) {
      deferred++;
      waiting.push(f.name);
      continue;
    }
    taken++;
    ingested += await takeFile(sftp, instance, f, ctx);
  }
  // Forget earlier looks at files that are gone.
  for (const { key } of await ctx.state.list('look:')) if (!names.has(key.slice(5))) await ctx.state.delete(key);
  ctx.note({ waitingForStableFiles: waiting.slice(0, 20) });
  if (outboxFailure) {
    ctx.note({ ingested, deferred, delivered });
    throw outboxFailure;
  }
  return { ingested, deferred, delivered };
}

async function isStable(f: FileInfo, cfg: SftpConfig, ctx: PollContext, names: Set<string>): Promise<boolean> {
  const look = { size: f.size, mtime: f.modifyTime };
  const key = `look:${f.name}`;
  const before = await ctx.state.get<{ size: number; mtime: number }>(key);
  if (!before || before.size !== look.size || before.mtime !== look.mtime) await ctx.state.put(key, look);
  if (cfg.stable.twoLooks && (!before || before.size !== look.size || before.mtime !== look.mtime)) return false;
  if (Date.now() - f.modifyTime < cfg.stable.minAgeSeconds * 1000) return false;
  if (cfg.stable.doneSuffix && !names.has(f.name + cfg.stable.doneSuffix)) return false;
  return true;
}

async function takeFile(sftp: SftpClient, instance: Instance, f: FileInfo, ctx: PollContext): Promise<number> {
  const cfg = instance.config;
  const ledgerKey = `file:${f.name}:${f.size}:${f.modifyTime}`;
  const group = 'f' + createHash('sha256').update(`${instance.id}\0${ledgerKey}`).digest('hex').slice(0, 24);
  const from = path.join(cfg.inbox, f.name);
  let entry = await ctx.state.get<LedgerEntry>(ledgerKey);
  let count = 0;
  if (!entry || entry.status === 'ingesting') {
    await ctx.state.put(ledgerKey, { status: 'ingesting', group, at: new Date().toISOString() } satisfies LedgerEntry);
    try {
      const r = await ingestFile(sftp, from, f, group, cfg, ctx);
      const prior = await ctx.state.get<{ ledgerKey: string }>(`sha:${r.sha256}`);
      if (prior && prior.ledgerKey !== ledgerKey) {
        entry = { status: 'duplicate', group, sha256: r.sha256, duplicateOf: prior.ledgerKey, at: new Date().toISOString() };
        await ctx.discardGroup(group, { [ledgerKey]: entry });
      } else {
        entry = { status: 'ingested', group, sha256: r.sha256, messages: r.messages, at: new Date().toISOString() };
        // The ledger entry and the release of the file's messages commit together.
        count = await ctx.releaseGroup(group, { [ledgerKey]: entry, [`sha:${r.sha256}`]: { ledgerKey } });
      }
    } catch (e) {
      if (!(e instanceof FileRefused)) throw classify(e, `read ${from}`);
      entry = { status: 'refused', group, reason: e.message, at: new Date().toISOString() };
      await ctx.discardGroup(group, { [ledgerKey]: entry });
      await ctx.raise({
        code: 'INTEGRATION.MALFORMED_PAYLOAD',
        title: `File refused from ${instance.name}: ${e.message}`.slice(0, 200),
        correlationKey: `file-refused:${instance.id}:${f.name}`,
        attributes: { file: f.name, size: f.size, reason: e.message, movedTo: cfg.error },
        fails: true,
      });
    }
    await ctx.checkpoint('ingested');
  }
  await moveAway(sftp, cfg, f.name, entry!);
  await ctx.state.delete(`look:${f.name}`);
  return count;
}

/**
 * Streams the file into stored batches. Memory stays bounded by backpressure: `for await` pulls one
 * batch at a time and stores it before asking for the next, so the splitter stops, the hashing
 * stream fills (16 KiB) and the SFTP read stream stops issuing reads (256 KiB each).
 */
async function ingestFile(sftp: SftpClient, from: string, f: FileInfo, group: string, cfg: SftpConfig, ctx: PollContext) {
  const hash = createHash('sha256');
  let bytes = 0;
  const src = sftp.createReadStream(from, { highWaterMark: 256 * 1024 });
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  src.on('error', (e) => hashing.destroy(e));
  ctx.signal.addEventListener('abort', () => hashing.destroy(ctx.signal.reason as Error), { once: true });
  // A connection that drops while the file is open fails no pending read (measured: the poll hung
  // with a killed server session); the client's close/end is what says so.
  const lost = () => hashing.destroy(new PollFailure(`read ${from}: the connection to the server was lost after ${bytes} of ${f.size} bytes`, 'connection-lost'));
  sftp.on('close', lost);
  sftp.on('end', lost);
  src.pipe(hashing);
  let n = 0;
  try {
    for await (const batch of splitterFor(cfg)(hashing, f.name)) {
      n++;
      await ctx.ingest({ key: `${group}:${n}`, body: batch.body, group, meta: batch.meta, contentType: cfg.format === 'x12' ? 'application/edi-x12' : undefined });
      await ctx.checkpoint('batch-stored');
    }
  } finally {
    sftp.removeListener('close', lost);
    sftp.removeListener('end', lost);
  }
  // A read cut short (connection lost without an error) or a file that changed after the listing
  // must never count as the whole file: its batches stay staged, and the next poll reads it again.
  if (bytes !== f.size) throw new PollFailure(`read ${from}: got ${bytes} bytes of ${f.size}; the file will be read again`, 'connection-lost');
  return { sha256: hash.digest('hex'), messages: n };
}

/** Archive (timestamp suffix) after success; error folder plus `<name>.error.txt` after a refusal. */
async function moveAway(sftp: SftpClient, cfg: SftpConfig, name: string, entry: LedgerEntry) {
  const from = path.join(cfg.inbox, name);
  const refused = entry.status === 'refused';
  const to = refused ? path.join(cfg.error, name) : path.join(cfg.archive, `${name}.${stamp(new Date())}`);
  try {
    if (refused) await writeAtomically(sftp, cfg.error, `${name}.error.txt`, `${entry.reason}\n\nrefused at ${entry.at}\n`);
    if (refused && (await sftp.exists(to))) await sftp.delete(to);
    await sftp.rename(from, to);
    if (cfg.stable.doneSuffix) await sftp.delete(from + cfg.stable.doneSuffix, true);
  } catch (e) {
    throw classify(e, `move ${from} to ${to}`);
  }
}

/** Temp name in the same folder, then rename: readers of the folder never see half a file. */
export async function writeAtomically(sftp: SftpClient, folder: string, name: string, content: string | Buffer) {
  const tmp = path.join(folder, `.${name}.part`);
  const final = path.join(folder, name);
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  try {
    await sftp.put(bytes, tmp);
    // put() can report success for a write the server refused (ssh2's write stream closes before it
    // errors; seen with a full disk: an empty file): the size on the server is what counts.
    const { size } = await sftp.stat(tmp);
    if (size !== bytes.length) throw new PollFailure(`write ${tmp}: the server kept ${size} of ${bytes.length} bytes (disk full or quota?)`, 'server-failure');
  } catch (e) {
    // A partial temp file would only take more of the space that is missing.
    await sftp.delete(tmp, true).catch(() => undefined);
    throw e;
  }
  await sftp.posixRename(tmp, final);
}

async function deliverOutbound(sftp: SftpClient, outbox: string, ctx: PollContext): Promise<number> {
  let n = 0;
  for (const doc of await ctx.pendingOutbound(100)) {
    if (ctx.signal.aborted) break;
    // Same document, same name: a retry after a crash overwrites the identical file.
    const name = `${doc.kind}_${doc.partner}_${doc.controlNumber}_${doc.id.slice(-12)}.${doc.contentType.includes('x12') ? 'edi' : 'txt'}`;
    try {
      await writeAtomically(sftp, outbox, name, doc.content);
    } catch (e) {
      throw classify(e, `write ${path.join(outbox, name)}`);
    }
    await ctx.markDelivered(doc.id, path.join(outbox, name));
    n++;
  }
  return n;
}
