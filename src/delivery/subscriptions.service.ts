import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { AuditTrail, type Actor } from '../audit/audit-trail.service.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { SecretBox } from '../connectors/secret-box.js';
import { EndpointGuard } from './endpoint-guard.js';
import { EVENT_TYPES } from './outbox-event.entity.js';
import { Subscription, type SigningSecret } from './subscription.entity.js';

const list = (max: number) => z.array(z.string().min(1).max(max)).min(1).max(100).nullable().optional();
const Filters = z.strictObject({ teams: list(64), codes: list(64), severities: list(16), sites: list(64), businessUnits: list(64) });
const Secret = z.string().regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'must be whsec_ followed by at least 24 bytes of base64');

export const SubscriptionCreate = z.strictObject({
  name: z.string().min(1).max(128),
  url: z.string().min(1).max(2048),
  eventTypes: z.array(z.enum(EVENT_TYPES)).min(1),
  filters: Filters.optional(),
  secret: Secret.optional(),
  ratePerSecond: z.number().int().min(1).max(10_000).nullable().optional(),
  active: z.boolean().optional(),
});
export type SubscriptionCreate = z.infer<typeof SubscriptionCreate>;
export const SubscriptionUpdate = SubscriptionCreate.omit({ secret: true }).partial();
export type SubscriptionUpdate = z.infer<typeof SubscriptionUpdate>;
export const SecretRotation = z.strictObject({ secret: Secret.optional(), overlapHours: z.number().min(0).max(24 * 30).default(24) });
export type SecretRotation = z.infer<typeof SecretRotation>;

/** A bad subscription request: the handler answers 400 with this message. */
export class SubscriptionInvalid extends Error {}

/** Subscriptions: CRUD, URL checks, sealed signing secrets and their rotation. */
@Injectable()
export class Subscriptions {
  readonly guard: EndpointGuard;
  private readonly box: SecretBox;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditTrail,
    @Inject(HUB_CONFIG) cfg: HubConfig,
  ) {
    this.guard = new EndpointGuard(cfg.delivery);
    this.box = new SecretBox(cfg.masterKey);
  }

  private get repo() {
    return this.ds.getRepository(Subscription);
  }

  async create(body: SubscriptionCreate, actor: Actor): Promise<{ subscription: Subscription; secret: string }> {
    await this.checkUrl(body.url);
    const secret = body.secret ?? newSecret();
    const row = this.repo.create({
      id: uuidv7(),
      name: body.name,
      url: body.url,
      eventTypes: body.eventTypes,
      ...filterColumns(body.filters),
      sealedSecrets: this.box.seal([{ secret, createdAt: new Date().toISOString(), expiresAt: null }] satisfies SigningSecret[]),
      active: body.active ?? true,
      ratePerSecond: body.ratePerSecond ?? null,
      createdBy: actor.id,
    });
    await this.ds.transaction(async (m) => {
      await m.getRepository(Subscription).insert(row);
      await this.audit.record(m, [{ actor, entityType: 'subscription', entityId: row.id, action: 'subscription.created', after: describe(row) }]);
    });
    return { subscription: row, secret };
  }

  async update(id: string, body: SubscriptionUpdate, actor: Actor): Promise<Subscription | null> {
    if (body.url) await this.checkUrl(body.url);
    return this.ds.transaction(async (m) => {
      const repo = m.getRepository(Subscription);
      const row = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!row) return null;
      const before = describe(row);
      if (body.name !== undefined) row.name = body.name;
      if (body.url !== undefined) row.url = body.url;
      if (body.eventTypes !== undefined) row.eventTypes = body.eventTypes;
      if (body.filters !== undefined) Object.assign(row, filterColumns(body.filters));
      if (body.ratePerSecond !== undefined) row.ratePerSecond = body.ratePerSecond;
      if (body.active !== undefined) {
        // Re-enabling starts a fresh failure window.
        if (body.active && !row.active) Object.assign(row, { disabledReason: null, failingSince: null });
        row.active = body.active;
      }
      await repo.save(row);
      await this.audit.record(m, [{ actor, entityType: 'subscription', entityId: id, action: 'subscription.updated', before, after: describe(row) }]);
      return row;
    });
  }

  /** Removes a subscription; its undelivered deliveries become dead (kept in the log). */
  async remove(id: string, actor: Actor): Promise<boolean> {
    return this.ds.transaction(async (m) => {
      const row = await m.getRepository(Subscription).findOneBy({ id });
      if (!row) return false;
      await m.query(`UPDATE deliveries SET status = 'dead', dead_at = now(), last_error = 'subscription deleted' WHERE subscription_id = $1 AND status = 'pending'`, [id]);
      await m.getRepository(Subscription).delete({ id });
      await this.audit.record(m, [{ actor, entityType: 'subscription', entityId: id, action: 'subscription.deleted', before: describe(row) }]);
      return true;
    });
  }

  /** New secret first; the others stay valid (both signatures sent) until the overlap ends. */
  async rotateSecret(id: string, body: SecretRotation, actor: Actor): Promise<{ secret: string; previousValidUntil: string } | null> {
    return this.ds.transaction(async (m) => {
      const repo = m.getRepository(Subscription);
      const row = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!row) return null;
      const now = new Date();
      const until = new Date(now.getTime() + body.overlapHours * 3_600_000).toISOString();
      const kept = this.validSecrets(row, now).map((s) => ({ ...s, expiresAt: s.expiresAt && s.expiresAt < until ? s.expiresAt : until }));
      const secret = body.secret ?? newSecret();
      row.sealedSecrets = this.box.seal([{ secret, createdAt: now.toISOString(), expiresAt: null }, ...kept]);
      await repo.save(row);
      await this.audit.record(m, [{ actor, entityType: 'subscription', entityId: id, action: 'subscription.secret-rotated', after: { previousValidUntil: until } }]);
      return { secret, previousValidUntil: until };
    });
  }

  /** Secrets to sign with now: the current one and any still inside their overlap period. */
  validSecrets(row: Pick<Subscription, 'sealedSecrets'>, now = new Date()): SigningSecret[] {
    const iso = now.toISOString();
    return this.box.open<SigningSecret[]>(row.sealedSecrets).filter((s) => !s.expiresAt || s.expiresAt > iso);
  }

  get(id: string) {
    return this.repo.findOneBy({ id });
  }

  list() {
    return this.repo.find({ order: { createdAt: 'ASC' } });
  }

  private async checkUrl(url: string) {
    const c = await this.guard.check(url);
    if (!c.ok) throw new SubscriptionInvalid(`url: ${c.reason}`);
  }
}

function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function filterColumns(f: SubscriptionCreate['filters']) {
  return {
    teams: f?.teams ?? null,
    codes: f?.codes ?? null,
    severities: f?.severities ?? null,
    sites: f?.sites ?? null,
    businessUnits: f?.businessUnits ?? null,
  };
}

/** What the API shows of a subscription: everything but the secrets. */
export function describe(s: Subscription) {
  return {
    id: s.id,
    name: s.name,
    url: s.url,
    eventTypes: s.eventTypes,
    filters: { teams: s.teams, codes: s.codes, severities: s.severities, sites: s.sites, businessUnits: s.businessUnits },
    active: s.active,
    disabledReason: s.disabledReason,
    failingSince: s.failingSince,
    ratePerSecond: s.ratePerSecond,
    createdBy: s.createdBy,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}
