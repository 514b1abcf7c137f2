import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { EMPTY_JSON_ARRAY } from '../database/column-defaults.js';

export const ARTIFACT_KINDS = ['mapping', 'policy'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/**
 * A published version of a mapping or routing policy. Immutable: the same kind + id + version is
 * only ever accepted again with the same content hash.
 */
@Entity('artifact_versions')
@Index('IDX_artifact_versions_published', ['kind', 'artifactId', 'publishedAt'])
export class ArtifactVersion {
  @PrimaryColumn('varchar', { length: 16 })
  kind!: ArtifactKind;

  @PrimaryColumn('varchar', { name: 'artifact_id', length: 128 })
  artifactId!: string;

  @PrimaryColumn('varchar', { length: 64 })
  version!: string;

  /** mapping: { manifest, transform, lookups, fixtures }; policy: the policy document. */
  @Column('jsonb')
  content!: Record<string, unknown>;

  /** SHA-256 of what decides behaviour (fixtures excluded), over canonical JSON. */
  @Column('char', { length: 64 })
  sha256!: string;

  /** 'folder' (loaded at start from mappings/ or policies/) or 'api' (POST …/versions). */
  @Column('varchar', { length: 16 })
  origin!: 'folder' | 'api';

  @Column('varchar', { name: 'published_by', length: 128 })
  publishedBy!: string;

  @Column('timestamptz', { name: 'published_at', default: () => 'now()' })
  publishedAt!: Date;
}

/**
 * The version in force for one scope. Mappings: `<connectorId|*>/<documentType|*>`; policies: `*`.
 * `history` is the rollback stack (earlier versions, most recent last). `generation` comes from the
 * sequence artifact_generation; every process compares the highest one with what it has loaded.
 */
@Entity('artifact_activations')
export class ArtifactActivation {
  @PrimaryColumn('varchar', { length: 16 })
  kind!: ArtifactKind;

  @PrimaryColumn('varchar', { name: 'artifact_id', length: 128 })
  artifactId!: string;

  @PrimaryColumn('varchar', { length: 200 })
  scope!: string;

  @Column('varchar', { length: 64 })
  version!: string;

  @Column('jsonb', { default: EMPTY_JSON_ARRAY })
  history!: string[];

  @Column('bigint')
  generation!: string;

  @Column('varchar', { name: 'activated_by', length: 128 })
  activatedBy!: string;

  @Column('timestamptz', { name: 'activated_at', default: () => 'now()' })
  activatedAt!: Date;
}
