import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { AuditTrail, type Actor } from '../audit/audit-trail.service.js';
import { ApiKey, type Role } from './api-key.entity.js';

export interface Caller {
  actor: Actor;
  role: Role;
}

const CACHE_MS = 5000;

/** Issues, verifies and revokes API keys. Keys are random 32-byte tokens; only their SHA-256 is stored. */
@Injectable()
export class ApiKeys {
  private readonly cache = new Map<string, { caller: Caller | null; until: number }>();
  private readonly bootstrapHash?: Buffer;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(HUB_CONFIG) cfg: HubConfig,
    private readonly audit: AuditTrail,
  ) {
    if (cfg.adminKey) this.bootstrapHash = sha256(cfg.adminKey);
  }

  async verify(presented: string): Promise<Caller | null> {
    const hash = sha256(presented);
    if (this.bootstrapHash && timingSafeEqual(hash, this.bootstrapHash)) {
      return { actor: { type: 'api-key', id: 'bootstrap-admin' }, role: 'admin' };
    }
    const hex = hash.toString('hex');
    const hit = this.cache.get(hex);
    if (hit && hit.until > Date.now()) return hit.caller;
    // Lookup by hash of a 256-bit random key: equality on the hash leaks nothing useful about other keys.
    const key = await this.ds.getRepository(ApiKey).findOne({ where: { keyHash: hex, revokedAt: IsNull() } });
    const caller: Caller | null = key ? { actor: { type: 'api-key', id: `${key.name}#${key.prefix}` }, role: key.role } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hex, { caller, until: Date.now() + CACHE_MS });
    return caller;
  }

  async create(name: string, role: Role, by: Actor): Promise<{ key: string; record: ApiKey }> {
    const key = `ehk_${randomBytes(32).toString('base64url')}`;
    const record = Object.assign(new ApiKey(), {
      id: uuidv7(),
      name,
      role,
      keyHash: sha256(key).toString('hex'),
      prefix: key.slice(0, 12),
      revokedAt: null,
    });
    await this.ds.transaction(async (m) => {
      await m.insert(ApiKey, record);
      await this.audit.record(m, [
        { actor: by, entityType: 'api-key', entityId: record.id, action: 'api-key.created', after: { name, role, prefix: record.prefix } },
      ]);
    });
    return { key, record };
  }

  list(): Promise<ApiKey[]> {
    return this.ds.getRepository(ApiKey).find({ order: { createdAt: 'ASC' } });
  }

  async revoke(id: string, by: Actor): Promise<boolean> {
    return this.ds.transaction(async (m) => {
      const res = await m.update(ApiKey, { id, revokedAt: IsNull() }, { revokedAt: new Date() });
      if (!res.affected) return false;
      await this.audit.record(m, [{ actor: by, entityType: 'api-key', entityId: id, action: 'api-key.revoked' }]);
      this.cache.clear();
      return true;
    });
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
