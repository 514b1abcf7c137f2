import path from 'node:path/posix';
import type { Connector, ConnectorContext, ParseOutcome, PollContext, PollOutcome, PollSettings, ProbeResult, ResolvedInstance } from '../../src/connectors/connector.js';
import { X12Connector } from '../x12/x12.connector.js';
import { SftpConfig, SftpSecrets } from './config.js';
import { globMatcher, pollInbox } from './inbox.js';
import { readRecords } from './records.js';
import { classify, openSession } from './session.js';

type Instance = ResolvedInstance<SftpConfig, SftpSecrets>;

/**
 * Batch files on an SFTP server (ERP exports, 3PL warehouses, suppliers, VANs): polls an inbox,
 * takes stable files exactly once, streams them into bounded stored messages (CSV / JSON lines
 * record batches, one X12 interchange each, XML whole up to a limit), archives them, and writes
 * acknowledgments to an outbox. X12 is read by the x12 connector's own parse path. See
 * docs/connectors/sftp.md.
 */
export class SftpConnector implements Connector<SftpConfig, SftpSecrets> {
  readonly type = 'sftp';
  readonly description = 'Batch files polled from an SFTP inbox (CSV, JSON lines, XML, X12): stable files exactly once, archive/error folders, acks to an outbox';
  readonly configSchema = SftpConfig;
  readonly secretsSchema = SftpSecrets;
  private readonly x12 = new X12Connector();

  pollSettings(instance: Instance): PollSettings {
    const c = instance.config;
    return { intervalMs: c.pollIntervalSeconds * 1000, downAfterFailures: c.downAfterFailures, silentAfterMs: c.silentAfterMinutes ? c.silentAfterMinutes * 60_000 : undefined };
  }

  async poll(instance: Instance, ctx: PollContext): Promise<PollOutcome> {
    const sftp = await openSession(instance.config, instance.secrets, ctx.signal);
    try {
      return await pollInbox(sftp, instance, ctx);
    } finally {
      await sftp.end().catch(() => undefined);
    }
  }

  async probe(instance: Instance, signal: AbortSignal): Promise<ProbeResult> {
    const c = instance.config;
    const sftp = await openSession(c, instance.secrets, signal);
    try {
      const matches = globMatcher(c.glob);
      const files = (await sftp.list(c.inbox).catch((e) => Promise.reject(classify(e, `list ${c.inbox}`)))).filter((f) => f.type === '-');
      const folders: Record<string, string> = {};
      for (const [k, p] of [['archive', c.archive], ['error', c.error], ['outbox', c.outbox]] as const) {
        if (p) folders[k] = (await sftp.exists(p)) === 'd' ? 'ok' : 'missing';
      }
      return {
        ok: Object.values(folders).every((v) => v === 'ok'),
        message: `connected to ${c.username}@${c.host}:${c.port}; ${files.filter((f) => matches(f.name)).length} file(s) matching ${c.glob} in ${c.inbox}`,
        details: {
          inbox: files.map((f) => ({ name: f.name, size: f.size, modifiedAt: new Date(f.modifyTime).toISOString(), matches: matches(f.name) })).slice(0, 200),
          folders,
        },
      };
    } finally {
      await sftp.end().catch(() => undefined);
    }
  }

  async parse(raw: Buffer, instance: Instance, ctx: ConnectorContext): Promise<ParseOutcome> {
    const cfg = instance.config;
    if ((ctx.meta.format ?? cfg.format) === 'x12') {
      // The x12 connector reads the interchange exactly as it does for HTTP posts, with the partner
      // profiles configured on this instance; its acknowledgments land in this instance's outbox.
      const x12Instance = { ...instance, config: { ...cfg.x12!, system: cfg.system, mapping: cfg.mapping } };
      return this.x12.parse(raw, x12Instance as never, ctx);
    }
    return readRecords(raw, cfg, { format: cfg.format, ...ctx.meta, file: ctx.meta.file ? path.basename(ctx.meta.file) : 'unknown' }, instance.id);
  }
}
