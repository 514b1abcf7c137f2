import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const ROLES = ['viewer', 'operator', 'integrator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** An API key. Only its SHA-256 is stored; the key itself is shown once, when created. */
@Entity('api_keys')
@Index('UQ_api_keys_hash', ['keyHash'], { unique: true })
export class ApiKey {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('varchar', { length: 128 })
  name!: string;

  @Column('char', { name: 'key_hash', length: 64 })
  keyHash!: string;

  /** First characters of the key, so people can tell keys apart without the secret. */
  @Column('varchar', { length: 16 })
  prefix!: string;

  @Column('varchar', { length: 16 })
  role!: Role;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
