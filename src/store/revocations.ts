// The revocations table: the token deny-list (sessions and per-user "valid after" marks),
// read into memory by the server so verifying an access token never touches the database.
import type { Kysely, Selectable } from 'kysely';
import { mapConflict } from './errors.ts';
import type { RevocationsTable, Schema } from './schema.ts';

export type RevocationKind = 'session' | 'user';

export interface Revocation {
  id: string;
  kind: RevocationKind;
  subject: string;
  at: number;
  expiresAt: number;
}

export interface RevocationRepository {
  insert(r: Revocation): Promise<void>;
  listActive(now: number): Promise<Revocation[]>;
  listSince(at: number): Promise<Revocation[]>;
  deleteExpired(now: number): Promise<number>;
}

export function createRevocationRepository(db: Kysely<Schema>): RevocationRepository {
  return {
    async insert(r: Revocation): Promise<void> {
      await mapConflict(() =>
        db
          .insertInto('revocations')
          .values({
            id: r.id,
            kind: r.kind,
            subject: r.subject,
            at: r.at,
            expires_at: r.expiresAt,
          })
          .execute(),
      );
    },

    async listActive(now: number): Promise<Revocation[]> {
      const rows = await db
        .selectFrom('revocations')
        .selectAll()
        .where('expires_at', '>', now)
        .orderBy('at', 'asc')
        .orderBy('id', 'asc')
        .execute();
      return rows.map(toRevocation);
    },

    async listSince(at: number): Promise<Revocation[]> {
      const rows = await db
        .selectFrom('revocations')
        .selectAll()
        .where('at', '>=', at)
        .orderBy('at', 'asc')
        .orderBy('id', 'asc')
        .execute();
      return rows.map(toRevocation);
    },

    async deleteExpired(now: number): Promise<number> {
      const result = await db
        .deleteFrom('revocations')
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function toRevocation(row: Selectable<RevocationsTable>): Revocation {
  return {
    id: row.id,
    kind: toKind(row.kind),
    subject: row.subject,
    at: row.at,
    expiresAt: row.expires_at,
  };
}

function toKind(kind: string): RevocationKind {
  if (kind === 'session' || kind === 'user') return kind;
  // An unknown kind means a newer schema or corruption; guessing could drop a revocation.
  throw new Error(`revocations: unknown kind ${JSON.stringify(kind)}`);
}
