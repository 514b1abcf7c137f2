import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { z } from 'zod';
import { AuditTrail, SYSTEM_ACTOR, type Actor } from '../audit/audit-trail.service.js';
import { ConfigError, HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { applyOverlay, OverlayRefused } from '../routing/policy-overlay.js';
import { isOverlay, parsePolicyDocument, type PolicyOverlay, type RoutingPolicy } from '../routing/routing-policy.js';

/** A policy version: an enterprise policy or a site / business-unit overlay of one. */
export type PolicyDocument = RoutingPolicy | PolicyOverlay;

function policyDocument(content: unknown): PolicyDocument {
  const parsed = parsePolicyDocument(content);
  if ('error' in parsed) throw new Error(parsed.error);
  return 'policy' in parsed ? parsed.policy : parsed.overlay;
}
import type { ArtifactKind } from './artifact.entity.js';
import { checkFixtures, readFixtures, type FixtureSet } from './fixture-check.js';
import { compareSemver, compileMapping, MappingManifest, readMappingFolder, type LoadedMapping, type MappingContent } from './mapping-registry.service.js';

/**
 * The enterprise policy an overlay is checked against when it is published. The API passes the version
 * in force (ActiveArtifacts); the folders, published at start, are checked against the newest folder version.
 */
export type EnterpriseOf = (id: string) => Promise<PolicyDocument | undefined>;

/** An overlay may change only what its enterprise policy marks overridable (422 naming the path). No enterprise: nothing to check. */
function requireOverridable(overlay: PolicyOverlay, enterprise: PolicyDocument | undefined) {
  if (!enterprise || isOverlay(enterprise)) return;
  try {
    applyOverlay(enterprise as RoutingPolicy, overlay);
  } catch (e) {
    if (e instanceof OverlayRefused) throw new ArtifactProblem(422, e.message);
    throw e;
  }
}

/** A refusal with the HTTP status it deserves; controllers turn it into the answer. */
export class ArtifactProblem extends Error {
  constructor(
    readonly status: 404 | 409 | 422,
    message: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const MappingVersionBody = z.strictObject({
  manifest: MappingManifest,
  transform: z.string().min(1).max(500_000),
  lookups: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), z.record(z.string(), z.unknown())).default({}),
  fixtures: z
    .strictObject({
      ok: z.array(z.strictObject({ name: z.string().min(1).max(200), input: z.unknown(), expected: z.array(z.unknown()) })).default([]),
      notOk: z.array(z.strictObject({ name: z.string().min(1).max(200), input: z.unknown(), reason: z.string().min(1).max(2000) })).default([]),
    })
    .optional(),
});
export type MappingVersionBody = z.infer<typeof MappingVersionBody>;

export type Compiled<K extends ArtifactKind> = K extends 'mapping' ? LoadedMapping : PolicyDocument;

export interface VersionRow {
  kind: ArtifactKind;
  artifact_id: string;
  version: string;
  content: Record<string, unknown>;
  sha256: string;
  origin: 'folder' | 'api';
  published_by: string;
  published_at: Date;
}

/** Canonical JSON (sorted keys) so the same content always hashes the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
const sha256 = (v: unknown) => createHash('sha256').update(canonical(v)).digest('hex');

/**
 * Published versions of mappings and routing policies, in PostgreSQL. The folders (mappings/,
 * policies/) are published at start; more versions come through the API. A version never changes:
 * the same id + version with other content is refused. Compiled versions are cached per process.
 */
@Injectable()
export class ArtifactRegistry {
  private readonly compiledCache = new Map<string, LoadedMapping | PolicyDocument>();
  /** Newest folder version per kind/id: in force where nothing was activated. */
  readonly folderDefaults = new Map<string, string>();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditTrail,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
  ) {}

  /** Publishes every folder version (idempotent across processes and restarts); ConfigError on a changed published version. */
  async loadFolders(): Promise<{ mappings: number; policies: number }> {
    let mappings = 0;
    let policies = 0;
    for (const [id, version, dir] of await versionFolders(this.cfg.mappingsDir, 'HUB_MAPPINGS_DIR')) {
      const content = await readMappingFolder(dir);
      if (content.manifest.id !== id || content.manifest.version !== version) {
        throw new ConfigError(`${dir}/manifest.json: id/version must match the folder (${id}/${version})`);
      }
      const fixtures = await readFixtures(dir);
      await this.publishFolder('mapping', id, version, { ...content, fixtures }, dir);
      mappings++;
    }
    for (const [id, version, dir] of await versionFolders(this.cfg.policiesDir, 'HUB_POLICIES_DIR')) {
      const file = path.join(dir, 'policy.json');
      let policy: PolicyDocument;
      try {
        policy = policyDocument(JSON.parse(await readFile(file, 'utf8')));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
        throw new ConfigError(`${file}: ${(e as Error).message}`);
      }
      if (policy.id !== id || policy.version !== version) throw new ConfigError(`${file}: id/version must match the folder (${id}/${version})`);
      await this.publishFolder('policy', id, version, policy as unknown as Record<string, unknown>, file);
      policies++;
    }
    return { mappings, policies };
  }

  private async publishFolder(kind: ArtifactKind, id: string, version: string, content: Record<string, unknown>, where: string) {
    try {
      await this.publish(kind, id, content, SYSTEM_ACTOR, 'folder');
    } catch (e) {
      if (e instanceof ArtifactProblem && e.status === 409) {
        throw new ConfigError(`${where}: ${e.message}; a published version never changes, so give the folder a new version (e.g. ${bump(version)})`);
      }
      if (e instanceof ArtifactProblem) throw new ConfigError(kind === 'mapping' ? `${where}/${e.message}` : `${where}: ${e.message}`);
      throw e;
    }
    const key = `${kind}/${id}`;
    const prev = this.folderDefaults.get(key);
    if (!prev || compareSemver(version, prev) > 0) this.folderDefaults.set(key, version);
  }

  /**
   * Validates and stores a version. Returns created=false when the same id + version with the same
   * content is already published (idempotent); ArtifactProblem 409 when the content differs.
   */
  async publish(
    kind: ArtifactKind,
    id: string,
    content: Record<string, unknown>,
    actor: Actor,
    origin: 'folder' | 'api' = 'api',
    enterpriseOf: EnterpriseOf = async (eid) => this.folderPolicy(eid),
  ) {
    const { version, behaviour } = this.validate(kind, id, content);
    if (kind === 'mapping' && origin === 'api') await this.requireFixturesPass(content as unknown as MappingVersionBody);
    const hash = sha256(behaviour);
    if (kind === 'policy' && isOverlay(behaviour) && (await this.row(kind, id, version))?.sha256 !== hash) {
      // Only a new version is checked: the same content again stays an idempotent 200 whatever is in force now.
      requireOverridable(behaviour as PolicyOverlay, await enterpriseOf((behaviour as PolicyOverlay).extends));
    }
    return this.ds.transaction(async (m) => {
      const inserted: { version: string }[] = await m.query(
        `INSERT INTO artifact_versions (kind, artifact_id, version, content, sha256, origin, published_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING version`,
        [kind, id, version, JSON.stringify(content), hash, origin, actor.id],
      );
      if (!inserted.length) {
        const [prior]: VersionRow[] = await m.query(`SELECT sha256, origin, published_by, published_at FROM artifact_versions WHERE kind = $1 AND artifact_id = $2 AND version = $3`, [kind, id, version]);
        if (prior.sha256 !== hash) {
          throw new ArtifactProblem(409, `${kind} ${id}@${version} is already published with other content (by ${prior.published_by} at ${new Date(prior.published_at).toISOString()}); publish a new version instead`);
        }
        return { kind, id, version, sha256: hash, created: false };
      }
      await this.audit.record(m, [{ actor, entityType: kind, entityId: id, action: `${kind}.published`, after: { version, sha256: hash, origin } }]);
      return { kind, id, version, sha256: hash, created: true };
    });
  }

  /** Checks content for its kind; returns the version and the part that decides behaviour (hashed). */
  private validate(kind: ArtifactKind, id: string, content: Record<string, unknown>): { version: string; behaviour: unknown } {
    if (kind === 'policy') {
      const parsed = parsePolicyDocument(content);
      if ('error' in parsed) throw new ArtifactProblem(422, parsed.error);
      const doc = 'policy' in parsed ? parsed.policy : parsed.overlay;
      if (doc.id !== id) throw new ArtifactProblem(422, `policy id "${doc.id}" does not match the path's "${id}"`);
      return { version: doc.version, behaviour: doc };
    }
    const c = content as unknown as MappingContent;
    if (c.manifest.id !== id) throw new ArtifactProblem(422, `manifest.id "${c.manifest.id}" does not match the path's "${id}"`);
    try {
      compileMapping(c);
    } catch (e) {
      throw new ArtifactProblem(422, (e as Error).message);
    }
    return { version: c.manifest.version, behaviour: { manifest: c.manifest, transform: c.transform, lookups: c.lookups } };
  }

  /** The newest folder version of a policy: what the folders are checked against while they are published at start. */
  private folderPolicy(id: string): PolicyDocument | undefined {
    const v = this.folderDefaults.get(`policy/${id}`);
    return v ? this.cached('policy', id, v) : undefined;
  }

  private async requireFixturesPass(body: MappingVersionBody) {
    if (!body.fixtures) return;
    const results = await checkFixtures(compileMapping(body), body.fixtures as FixtureSet);
    const failed = results.filter((r) => !r.pass);
    if (failed.length) throw new ArtifactProblem(422, `${failed.length} fixture(s) failed: ${failed.map((f) => f.name).join(', ')}`, { fixtures: failed });
  }

  async versions(kind: ArtifactKind, id: string): Promise<{ version: string; sha256: string; origin: string; publishedBy: string; publishedAt: Date }[]> {
    const rows: VersionRow[] = await this.ds.query(
      `SELECT version, sha256, origin, published_by, published_at FROM artifact_versions WHERE kind = $1 AND artifact_id = $2`,
      [kind, id],
    );
    return rows
      .sort((a, b) => compareSemver(b.version, a.version))
      .map((r) => ({ version: r.version, sha256: r.sha256, origin: r.origin, publishedBy: r.published_by, publishedAt: r.published_at }));
  }

  async row(kind: ArtifactKind, id: string, version: string, m: EntityManager | DataSource = this.ds): Promise<VersionRow | undefined> {
    const [row]: VersionRow[] = await m.query(`SELECT * FROM artifact_versions WHERE kind = $1 AND artifact_id = $2 AND version = $3`, [kind, id, version]);
    return row;
  }

  /**
   * A compiled version (cached; versions never change, so the cache never goes stale). Inside a
   * transaction pass its manager `m`: a miss then reads on that connection instead of taking a second
   * one from the pool while the first is held (concurrent activations could otherwise starve the pool).
   */
  async compiled<K extends ArtifactKind>(kind: K, id: string, version: string, m: EntityManager | DataSource = this.ds): Promise<Compiled<K> | undefined> {
    const key = `${kind}/${id}@${version}`;
    const hit = this.compiledCache.get(key);
    if (hit) return hit as Compiled<K>;
    const row = await this.row(kind, id, version, m);
    if (!row) return undefined;
    const value = kind === 'mapping' ? compileMapping(MappingVersionBody.parse(row.content)) : policyDocument(row.content);
    this.compiledCache.set(key, value);
    return value as Compiled<K>;
  }

  /** Already compiled (no I/O), for the synchronous paths (routing decisions). */
  cached<K extends ArtifactKind>(kind: K, id: string, version: string): Compiled<K> | undefined {
    return this.compiledCache.get(`${kind}/${id}@${version}`) as Compiled<K> | undefined;
  }

  /** The version in force where nothing is activated: newest folder version, else newest published. */
  async defaultVersion(kind: ArtifactKind, id: string): Promise<string | undefined> {
    return this.folderDefaults.get(`${kind}/${id}`) ?? (await this.versions(kind, id))[0]?.version;
  }
}

async function versionFolders(root: string, setting: string): Promise<[string, string, string][]> {
  let ids: string[];
  try {
    ids = await readdir(root);
  } catch {
    throw new ConfigError(`${setting} "${root}" cannot be read; point it at the ${path.basename(root) || 'artifacts'}/ folder`);
  }
  const out: [string, string, string][] = [];
  for (const id of ids.sort()) {
    if (!(await stat(path.join(root, id))).isDirectory()) continue;
    for (const version of (await readdir(path.join(root, id))).sort()) {
      const dir = path.join(root, id, version);
      if ((await stat(dir)).isDirectory()) out.push([id, version, dir]);
    }
  }
  return out;
}

function bump(version: string): string {
  const [maj, min, patch] = version.split(/[.-]/).map(Number);
  return Number.isFinite(patch) ? `${maj}.${min}.${patch + 1}` : `${version}-1`;
}
