import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditTrail, type Actor } from '../audit/audit-trail.service.js';
import { HUB_LOGGER } from '../observability/hub-logger.js';
import type { ArtifactKind } from './artifact.entity.js';
import { ArtifactProblem, ArtifactRegistry, type PolicyDocument } from './artifact-registry.service.js';
import type { LoadedMapping } from './mapping-registry.service.js';
import { requireBuildsWith } from './policy-combination.js';
import { isOverlay, type PolicyOverlay } from '../routing/routing-policy.js';

/** Where an activation applies. Mappings: a connector instance and/or document type (`*` = any); policies: `*`. */
export interface Scope {
  connectorId?: string;
  documentType?: string;
}
export const scopeKey = (kind: ArtifactKind, s: Scope) => (kind === 'policy' ? '*' : `${s.connectorId ?? '*'}/${s.documentType ?? '*'}`);

interface ActivationRow {
  kind: ArtifactKind;
  artifact_id: string;
  scope: string;
  version: string;
  history: string[];
  generation: string;
  activated_by: string;
  activated_at: Date;
}

/**
 * The versions in force, as every hub process sees them. Activations live in PostgreSQL; each
 * carries a number from the sequence artifact_generation. `sync()` (called by the pipeline before
 * every batch, and by the API before it answers) compares the highest number with the one this
 * process loaded and reloads when it moved, so an activation reaches every worker without a restart.
 */
@Injectable()
export class ActiveArtifacts {
  private generation = '-1';
  private active = new Map<string, string>();
  private syncing?: Promise<void>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly registry: ArtifactRegistry,
    private readonly audit: AuditTrail,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  /** Reloads the activations when another process (or this one) changed them. One cheap query otherwise. */
  async sync(): Promise<void> {
    if (this.syncing) return this.syncing;
    this.syncing = (async () => {
      const [{ g }] = await this.ds.query(`SELECT coalesce(max(generation), 0)::text AS g FROM artifact_activations`);
      if (g === this.generation) return;
      const rows: ActivationRow[] = await this.ds.query(`SELECT kind, artifact_id, scope, version FROM artifact_activations`);
      const next = new Map<string, string>();
      for (const r of rows) {
        await this.registry.compiled(r.kind, r.artifact_id, r.version);
        next.set(`${r.kind}/${r.artifact_id}/${r.scope}`, r.version);
      }
      for (const [key, version] of this.registry.folderDefaults) {
        const [kind, id] = key.split('/') as [ArtifactKind, string];
        await this.registry.compiled(kind, id, version);
      }
      if (this.generation !== '-1') this.log.info({ generation: g, activations: rows.length }, 'activations reloaded');
      this.active = next;
      this.generation = g;
    })().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** Like sync(), but never reuses a check that started before the caller's change committed. */
  async refresh(): Promise<void> {
    await this.syncing?.catch(() => undefined);
    await this.sync();
  }

  /** The version of a mapping in force for a connector instance and document type (most specific activation first). */
  mappingVersion(id: string, connectorId = '*', documentType = '*'): string | undefined {
    for (const scope of [`${connectorId}/${documentType}`, `${connectorId}/*`, `*/${documentType}`, '*/*']) {
      const v = this.active.get(`mapping/${id}/${scope}`);
      if (v) return v;
    }
    return this.registry.folderDefaults.get(`mapping/${id}`);
  }

  mapping(id: string, connectorId?: string, documentType?: string): LoadedMapping | undefined {
    const v = this.mappingVersion(id, connectorId, documentType);
    return v ? this.registry.cached('mapping', id, v) : undefined;
  }

  /** The routing policy in force for a policy id (the Router asks for 'default'). */
  policy(id: string): PolicyDocument | undefined {
    const v = this.active.get(`policy/${id}/*`) ?? this.registry.folderDefaults.get(`policy/${id}`);
    return v ? this.registry.cached('policy', id, v) : undefined;
  }

  /** The site / business-unit overlays in force (what the Router and a simulation build on). */
  overlays(): PolicyOverlay[] {
    return this.policyIds()
      .map((id) => this.policy(id))
      .filter((p): p is PolicyOverlay => !!p && isOverlay(p));
  }

  /** Every policy id that has a version in force (enterprise policies and overlays). */
  policyIds(): string[] {
    const ids = new Set<string>();
    for (const key of this.registry.folderDefaults.keys()) if (key.startsWith('policy/')) ids.add(key.slice('policy/'.length));
    for (const key of this.active.keys()) if (key.startsWith('policy/')) ids.add(key.split('/')[1]);
    return [...ids];
  }

  /**
   * Publishes a policy version. An overlay is checked against the enterprise version in force (activated,
   * else the newest folder version), read from the table rather than this process's copy, so a version
   * activated through another process a moment ago counts.
   */
  publishPolicy(id: string, content: Record<string, unknown>, actor: Actor) {
    return this.registry.publish('policy', id, content, actor, 'api', async (enterpriseId) => (await this.policiesInForce(this.ds, enterpriseId)).get(enterpriseId));
  }

  /** The policy versions in force by id, as committed (activations, else the newest folder version); `only` limits it to one id. */
  private async policiesInForce(m: EntityManager | DataSource, only?: string): Promise<Map<string, PolicyDocument>> {
    const versions = new Map<string, string>();
    for (const [key, version] of this.registry.folderDefaults) if (key.startsWith('policy/')) versions.set(key.slice('policy/'.length), version);
    const rows: { artifact_id: string; version: string }[] = await m.query(`SELECT artifact_id, version FROM artifact_activations WHERE kind = 'policy' AND scope = '*'`);
    for (const r of rows) versions.set(r.artifact_id, r.version);
    const out = new Map<string, PolicyDocument>();
    for (const [id, version] of versions) {
      if (only && id !== only) continue;
      const doc = await this.registry.compiled('policy', id, version, m);
      if (doc) out.set(id, doc);
    }
    return out;
  }

  async activations(kind: ArtifactKind, id: string) {
    const rows: ActivationRow[] = await this.ds.query(
      `SELECT * FROM artifact_activations WHERE kind = $1 AND artifact_id = $2 ORDER BY scope`,
      [kind, id],
    );
    return {
      defaultVersion: (await this.registry.defaultVersion(kind, id)) ?? null,
      items: rows.map((r) => ({ scope: r.scope, version: r.version, history: r.history, activatedBy: r.activated_by, activatedAt: r.activated_at })),
    };
  }

  /** Makes a published version the one in force for a scope; audit entry with from → to. Idempotent. */
  async activate(kind: ArtifactKind, id: string, version: string, scope: Scope, actor: Actor) {
    const row = await this.registry.row(kind, id, version);
    if (!row) throw new ArtifactProblem(404, `${kind} ${id}@${version} is not published`);
    if (kind === 'mapping' && scope.documentType) {
      const types = (row.content as { manifest: { source: { documentTypes: string[] } } }).manifest.source.documentTypes;
      if (!types.includes(scope.documentType)) {
        throw new ArtifactProblem(422, `${id}@${version} does not map document type "${scope.documentType}" (it maps ${types.join(', ')})`);
      }
    }
    const key = scopeKey(kind, scope);
    const fallback = (await this.registry.defaultVersion(kind, id)) ?? null;
    const out = await this.ds.transaction(async (m) => {
      if (kind === 'policy') await lockPolicyActivations(m);
      const [cur]: ActivationRow[] = await m.query(
        `SELECT * FROM artifact_activations WHERE kind = $1 AND artifact_id = $2 AND scope = $3 FOR UPDATE`,
        [kind, id, key],
      );
      const from = cur?.version ?? fallback;
      if (cur?.version === version) return { kind, id, scope: key, from, to: version, changed: false };
      if (kind === 'policy') requireBuildsWith(await this.policiesInForce(m), (await this.registry.compiled('policy', id, version, m))!, 'activate');
      const history = [...(cur?.history ?? []), ...(from ? [from] : [])].slice(-50);
      await m.query(
        `INSERT INTO artifact_activations (kind, artifact_id, scope, version, history, generation, activated_by, activated_at)
         VALUES ($1, $2, $3, $4, $5, nextval('artifact_generation'), $6, now())
         ON CONFLICT (kind, artifact_id, scope) DO UPDATE
            SET version = EXCLUDED.version, history = EXCLUDED.history, generation = EXCLUDED.generation,
                activated_by = EXCLUDED.activated_by, activated_at = EXCLUDED.activated_at`,
        [kind, id, key, version, JSON.stringify(history), actor.id],
      );
      await this.audit.record(m, [{ actor, entityType: kind, entityId: id, action: `${kind}.activated`, before: { scope: key, version: from }, after: { scope: key, version } }]);
      return { kind, id, scope: key, from, to: version, changed: true };
    });
    await this.refresh();
    return out;
  }

  /** Puts back the version in force before the last activation of this scope (a stack: repeat to go further back). */
  async rollback(kind: ArtifactKind, id: string, scope: Scope, actor: Actor) {
    const key = scopeKey(kind, scope);
    const out = await this.ds.transaction(async (m) => {
      if (kind === 'policy') await lockPolicyActivations(m);
      const [cur]: ActivationRow[] = await m.query(
        `SELECT * FROM artifact_activations WHERE kind = $1 AND artifact_id = $2 AND scope = $3 FOR UPDATE`,
        [kind, id, key],
      );
      if (!cur || cur.history.length === 0) throw new ArtifactProblem(409, `nothing to roll back: no earlier activation of ${kind} ${id} for scope ${key}`);
      const history = cur.history.slice(0, -1);
      const to = cur.history[cur.history.length - 1];
      if (kind === 'policy') requireBuildsWith(await this.policiesInForce(m), (await this.registry.compiled('policy', id, to, m))!, 'roll back to');
      await m.query(
        `UPDATE artifact_activations SET version = $4, history = $5, generation = nextval('artifact_generation'), activated_by = $6, activated_at = now()
          WHERE kind = $1 AND artifact_id = $2 AND scope = $3`,
        [kind, id, key, to, JSON.stringify(history), actor.id],
      );
      await this.audit.record(m, [{ actor, entityType: kind, entityId: id, action: `${kind}.rolled-back`, before: { scope: key, version: cur.version }, after: { scope: key, version: to } }]);
      return { kind, id, scope: key, from: cur.version, to };
    });
    await this.refresh();
    return out;
  }
}

/**
 * Policy activations and rollbacks take turns across processes: each checks the combination it leads to,
 * and two changes each fine alone (an enterprise version and an overlay) may not build together.
 */
async function lockPolicyActivations(m: EntityManager) {
  await m.query(`SELECT pg_advisory_xact_lock(hashtext('artifact_activations:policy'))`);
}
