import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';

/**
 * HUB_RAW_RETENTION_DAYS: raw payloads of processed messages (routed, mapped, parsed, failed)
 * expire after that many days; the message row, its exceptions and the audit trail stay.
 * Messages still to process (received) or dead (to replay) keep their bytes.
 */
@Injectable()
export class RawRetention {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(HUB_CONFIG) private readonly cfg: HubConfig,
  ) {}

  async expire(limit = 1000): Promise<number> {
    if (!this.cfg.rawRetentionDays) return 0;
    const [, n] = await this.ds.query(
      `UPDATE inbound_messages SET raw = NULL, meta = meta || jsonb_build_object('rawExpiredAt', now())
        WHERE id IN (SELECT id FROM inbound_messages
                      WHERE raw IS NOT NULL AND status IN ('routed', 'mapped', 'parsed', 'failed')
                        AND received_at < now() - make_interval(secs => $1::float8 * 86400) LIMIT $2)`,
      [this.cfg.rawRetentionDays, limit],
    );
    return n as number;
  }
}
