import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ApiKeyScope } from '@taskq/contracts';

/** A client's API key. Only its hash is stored; the key itself is shown once, at creation. */
@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('varchar', { length: 100 })
  name!: string;

  /** The public part of the key (`tq_<prefix>_…`): finds the row and names the key in lists. */
  @Column('varchar', { length: 32, unique: true })
  prefix!: string;

  /** SHA-256 of the whole key, hex. */
  @Column('char', { length: 64 })
  hash!: string;

  @Column('text', { array: true })
  scopes!: ApiKeyScope[];

  /** Owner of the tasks submitted with this key. */
  @Column('varchar', { length: 100 })
  tenant!: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
