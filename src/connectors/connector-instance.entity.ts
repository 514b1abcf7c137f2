import { Column, Entity, PrimaryColumn } from 'typeorm';
import { EMPTY_JSON_OBJECT } from '../database/column-defaults.js';

/** A configured connector: its type, its plain config, and its secrets sealed with the master key. */
@Entity('connector_instances')
export class ConnectorInstance {
  @PrimaryColumn('varchar', { length: 64 })
  id!: string;

  @Column('varchar', { length: 64 })
  type!: string;

  @Column('varchar', { length: 200 })
  name!: string;

  @Column('jsonb', { default: EMPTY_JSON_OBJECT })
  config!: Record<string, unknown>;

  /** AES-256-GCM sealed JSON object of secret settings; never returned by the API. */
  @Column('text', { name: 'sealed_secrets', nullable: true })
  sealedSecrets!: string | null;

  @Column('boolean', { default: true })
  enabled!: boolean;

  @Column('varchar', { length: 8 })
  origin!: 'file' | 'api';

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at', default: () => 'now()' })
  updatedAt!: Date;
}
