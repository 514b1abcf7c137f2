import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ConfigError, HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { AuditTrail, SYSTEM_ACTOR, type Actor } from '../audit/audit-trail.service.js';
import { CONNECTOR_TYPES } from './connector-catalog.js';
import type { Connector, ResolvedInstance } from './connector.js';
import { ConnectorInstance } from './connector-instance.entity.js';
import { SecretBox } from './secret-box.js';

export const InstanceDeclaration = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,63}$/, 'must be 2-64 lower-case letters, digits or dashes'),
  type: z.string().min(1),
  name: z.string().min(1).max(200),
  enabled: z.boolean().default(true),
  config: z.record(z.string(), z.unknown()).default({}),
  secrets: z.record(z.string(), z.unknown()).default({}),
});
export type InstanceDeclaration = z.infer<typeof InstanceDeclaration>;

const CommonConfig = z.object({ system: z.string().min(1).max(64), mapping: z.string().min(1).max(128) });

export class InstanceInvalid extends Error {}

const CACHE_MS = 5000;

/** Connector instances: declared in files (HUB_CONNECTORS_DIR) or through the API, secrets sealed at rest. */
@Injectable()
export class ConnectorInstances {
  private readonly types = new Map(CONNECTOR_TYPES.map((c) => [c.type, c]));
  private readonly box: SecretBox;
  private readonly cache = new Map<string, { at: number; value: ResolvedInstance | null }>();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
    private readonly audit: AuditTrail,
  ) {
    this.box = new SecretBox(cfg.masterKey);
  }

  connectorFor(type: string): Connector<any, any> {
    const c = this.types.get(type);
    if (!c) throw new InstanceInvalid(`unknown connector type "${type}"; known: ${[...this.types.keys()].join(', ')}`);
    return c;
  }

  typeNames(): { type: string; description: string }[] {
    return CONNECTOR_TYPES.map((c) => ({ type: c.type, description: c.description }));
  }

  /** Validates a declaration against its connector's schemas; throws InstanceInvalid with the first problem. */
  validate(decl: InstanceDeclaration): { config: Record<string, unknown>; secrets: Record<string, unknown> } {
    const connector = this.connectorFor(decl.type);
    const { system, mapping, ...rest } = decl.config;
    const common = CommonConfig.safeParse({ system, mapping });
    const own = connector.configSchema.safeParse(rest);
    const secrets = connector.secretsSchema.safeParse(decl.secrets);
    for (const [where, r] of [['config', common], ['config', own], ['secrets', secrets]] as const) {
      if (!r.success) {
        const i = r.error.issues[0];
        throw new InstanceInvalid(`${where}.${i.path.join('.')}: ${i.message}`);
      }
    }
    return { config: { ...common.data, ...(own.data as Record<string, unknown>) }, secrets: secrets.data as Record<string, unknown> };
  }

  async upsert(decl: InstanceDeclaration, origin: 'file' | 'api', actor: Actor): Promise<ConnectorInstance> {
    const { config, secrets } = this.validate(decl);
    const saved = await this.ds.transaction(async (m) => {
      const before = await m.findOne(ConnectorInstance, { where: { id: decl.id }, lock: { mode: 'pessimistic_write' } });
      // Re-loading an unchanged file declaration (every process start) writes nothing and audits nothing.
      if (before && this.unchanged(before, decl, config, secrets, origin)) return before;
      const row = Object.assign(before ?? new ConnectorInstance(), {
        id: decl.id,
        type: decl.type,
        name: decl.name,
        enabled: decl.enabled,
        config,
        sealedSecrets: this.box.seal(secrets),
        origin,
        updatedAt: new Date(),
      });
      await m.save(row);
      await this.audit.record(m, [
        {
          actor,
          entityType: 'connector',
          entityId: decl.id,
          action: before ? 'connector.updated' : 'connector.created',
          before: before ? describe(before) : null,
          after: describe(row),
        },
      ]);
      return row;
    });
    this.cache.delete(decl.id);
    return saved;
  }

  private unchanged(row: ConnectorInstance, decl: InstanceDeclaration, config: Record<string, unknown>, secrets: Record<string, unknown>, origin: string): boolean {
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    return (
      row.type === decl.type && row.name === decl.name && row.enabled === decl.enabled && row.origin === origin &&
      same(row.config, config) && !!row.sealedSecrets && same(this.openOrNull(row.sealedSecrets), secrets)
    );
  }

  /** Secrets sealed under an earlier HUB_MASTER_KEY cannot be opened: the declaration re-seals them. */
  private openOrNull(sealed: string): unknown {
    try {
      return this.box.open(sealed);
    } catch {
      return null;
    }
  }

  /** Health of one connector from what it delivered: last message, outcomes over 24 h, last error. */
  async status(row: ConnectorInstance) {
    const [counts, last, lastError, polling] = await Promise.all([
      this.ds.query(
        `SELECT status, count(*)::int AS n FROM inbound_messages WHERE connector_id = $1 AND received_at > now() - interval '24 hours' GROUP BY status`,
        [row.id],
      ),
      this.ds.query(`SELECT max(received_at) AS received, max(processed_at) AS processed FROM inbound_messages WHERE connector_id = $1`, [row.id]),
      this.ds.query(
        `SELECT id, status, errors -> -1 AS error FROM inbound_messages WHERE connector_id = $1 AND status IN ('failed', 'dead') ORDER BY received_at DESC LIMIT 1`,
        [row.id],
      ),
      this.ds.query(
        `SELECT last_poll_at, last_success_at, consecutive_failures, last_error, next_poll_at, lease_until, last_item_at, down_message_id, silent_message_id, last_outcome
           FROM connector_poll_state WHERE connector_id = $1`,
        [row.id],
      ) as Promise<Record<string, any>[]>,
    ]);
    const poll = polling[0];
    const last24h = Object.fromEntries((counts as { status: string; n: number }[]).map((c) => [c.status, c.n]));
    const unhealthy = (last24h.dead ?? 0) > 0 || (last24h.failed ?? 0) > 0;
    return {
      id: row.id,
      type: row.type,
      enabled: row.enabled,
      health: !row.enabled ? 'disabled' : poll?.down_message_id ? 'down' : unhealthy || poll?.consecutive_failures > 0 ? 'degraded' : 'ok',
      lastMessageAt: last[0]?.received ?? null,
      lastProcessedAt: last[0]?.processed ?? null,
      last24h,
      lastError: lastError[0] ? { messageId: lastError[0].id, status: lastError[0].status, ...lastError[0].error } : null,
      // Polling connectors only (SFTP ...): what the poll scheduler recorded.
      ...(poll
        ? {
            polling: {
              lastPollAt: poll.last_poll_at, lastSuccessAt: poll.last_success_at, nextPollAt: poll.next_poll_at, consecutiveFailures: poll.consecutive_failures,
              lastError: poll.last_error, lastItemAt: poll.last_item_at, polling: !!poll.lease_until && new Date(poll.lease_until) > new Date(),
              down: !!poll.down_message_id, silent: !!poll.silent_message_id, lastOutcome: poll.last_outcome,
            },
          }
        : {}),
    };
  }

  /** Resolved (decrypted) instance for the hot ingest path, cached briefly per process. */
  async resolve(id: string): Promise<ResolvedInstance | null> {
    const hit = this.cache.get(id);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.value;
    const row = await this.ds.getRepository(ConnectorInstance).findOne({ where: { id } });
    const value = row ? this.toResolved(row) : null;
    this.cache.set(id, { at: Date.now(), value });
    return value;
  }

  list(): Promise<ConnectorInstance[]> {
    return this.ds.getRepository(ConnectorInstance).find({ order: { id: 'ASC' } });
  }

  get(id: string): Promise<ConnectorInstance | null> {
    return this.ds.getRepository(ConnectorInstance).findOne({ where: { id } });
  }

  /** Loads every *.json declaration in HUB_CONNECTORS_DIR. `{"$env": "NAME"}` values are read from the environment. */
  async loadDeclaredFiles(env: Record<string, string | undefined> = process.env): Promise<string[]> {
    const dir = this.cfg.connectorsDir;
    let files: string[];
    try {
      files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const loaded: string[] = [];
    for (const file of files) {
      const where = path.join(dir, file);
      let json: unknown;
      try {
        json = JSON.parse(await readFile(where, 'utf8'));
      } catch (e) {
        throw new ConfigError(`${where}: not valid JSON (${(e as Error).message}); fix the file or remove it`);
      }
      try {
        const decl = InstanceDeclaration.parse(resolveEnvRefs(json, env, where));
        await this.upsert(decl, 'file', SYSTEM_ACTOR).catch((e: { code?: string }) => {
          // Two processes starting together may both insert a new declaration; the loser retries as an update.
          if (e.code === '23505') return this.upsert(decl, 'file', SYSTEM_ACTOR);
          throw e;
        });
        loaded.push(decl.id);
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        const msg = e instanceof z.ZodError ? `${e.issues[0].path.join('.')}: ${e.issues[0].message}` : (e as Error).message;
        throw new ConfigError(`${where}: ${msg}; fix the connector declaration`);
      }
    }
    return loaded;
  }

  private toResolved(row: ConnectorInstance): ResolvedInstance {
    return {
      id: row.id,
      type: row.type,
      name: row.name,
      enabled: row.enabled,
      config: row.config as ResolvedInstance['config'],
      secrets: row.sealedSecrets ? this.box.open<Record<string, unknown>>(row.sealedSecrets) : {},
    };
  }
}

/** What the API and audit trail show of an instance: never its secrets. */
export function describe(row: ConnectorInstance): Record<string, unknown> {
  return { id: row.id, type: row.type, name: row.name, enabled: row.enabled, config: row.config, origin: row.origin };
}

function resolveEnvRefs(v: unknown, env: Record<string, string | undefined>, where: string): unknown {
  if (Array.isArray(v)) return v.map((x) => resolveEnvRefs(x, env, where));
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.$env === 'string' && Object.keys(o).length === 1) {
      const value = env[o.$env];
      if (!value) throw new ConfigError(`${where}: environment variable ${o.$env} is not set; set it or edit the file`);
      return value;
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolveEnvRefs(x, env, where)]));
  }
  return v;
}
