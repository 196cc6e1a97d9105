// The signing_keys table: JWKs of the access-token signing keys, current and retired.
import type { Kysely, Selectable } from 'kysely';
import { mapConflict } from './errors.ts';
import type { Schema, SigningKeysTable } from './schema.ts';

export interface SigningKey {
  kid: string;
  alg: string;
  publicJwk: string;
  privateJwk: string;
  createdAt: number;
  retiredAt: number | null;
}

export interface SigningKeyRepository {
  list(): Promise<SigningKey[]>;
  insert(k: SigningKey): Promise<void>;
  /** Insert a current key unless its algorithm has one already; false if it had (nothing written). */
  insertCurrent(k: SigningKey): Promise<boolean>;
  retire(kid: string, now: number): Promise<void>;
  delete(kid: string): Promise<void>;
}

export function createSigningKeyRepository(db: Kysely<Schema>): SigningKeyRepository {
  return {
    async list(): Promise<SigningKey[]> {
      const rows = await db
        .selectFrom('signing_keys')
        .selectAll()
        .orderBy('created_at', 'asc')
        .orderBy('kid', 'asc')
        .execute();
      return rows.map(toSigningKey);
    },

    async insert(k: SigningKey): Promise<void> {
      await mapConflict(() =>
        db
          .insertInto('signing_keys')
          .values({
            kid: k.kid,
            alg: k.alg,
            public_jwk: k.publicJwk,
            private_jwk: k.privateJwk,
            created_at: k.createdAt,
            retired_at: k.retiredAt,
          })
          .execute(),
      );
    },

    async insertCurrent(k: SigningKey): Promise<boolean> {
      // ON CONFLICT on the partial index: a racing instance's key wins, this one is dropped, and
      // PostgreSQL waits for the other transaction instead of failing this one.
      const rows = await db
        .insertInto('signing_keys')
        .values({
          kid: k.kid,
          alg: k.alg,
          public_jwk: k.publicJwk,
          private_jwk: k.privateJwk,
          created_at: k.createdAt,
          retired_at: null,
        })
        .onConflict((oc) => oc.column('alg').where('retired_at', 'is', null).doNothing())
        .returning('kid')
        .execute();
      return rows.length === 1;
    },

    async retire(kid: string, now: number): Promise<void> {
      // The first retirement time stands: tokens it signed stay verifiable for a window from it.
      await db
        .updateTable('signing_keys')
        .set({ retired_at: now })
        .where('kid', '=', kid)
        .where('retired_at', 'is', null)
        .execute();
    },

    async delete(kid: string): Promise<void> {
      await db.deleteFrom('signing_keys').where('kid', '=', kid).execute();
    },
  };
}

function toSigningKey(row: Selectable<SigningKeysTable>): SigningKey {
  return {
    kid: row.kid,
    alg: row.alg,
    publicJwk: row.public_jwk,
    privateJwk: row.private_jwk,
    createdAt: row.created_at,
    retiredAt: row.retired_at === null ? null : row.retired_at,
  };
}
