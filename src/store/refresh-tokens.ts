// The refresh_tokens table: keyed hashes of single-use refresh tokens, one chain per session.
import type { Kysely, Selectable } from 'kysely';
import { mapConflict } from './errors.ts';
import type { RefreshTokensTable, Schema } from './schema.ts';

export interface RefreshToken {
  hash: string;
  sessionId: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export type NewRefreshToken = Omit<RefreshToken, 'usedAt'>;

export interface RefreshTokenRepository {
  insert(t: NewRefreshToken): Promise<void>;
  findByHash(hash: string): Promise<RefreshToken | undefined>;
  markUsed(hash: string, now: number): Promise<boolean>;
  deleteForSession(sessionId: string): Promise<number>;
}

export function createRefreshTokenRepository(db: Kysely<Schema>): RefreshTokenRepository {
  return {
    async insert(t: NewRefreshToken): Promise<void> {
      await mapConflict(() =>
        db
          .insertInto('refresh_tokens')
          .values({
            token_hash: t.hash,
            session_id: t.sessionId,
            user_id: t.userId,
            created_at: t.createdAt,
            expires_at: t.expiresAt,
            used_at: null,
          })
          .execute(),
      );
    },

    async findByHash(hash: string): Promise<RefreshToken | undefined> {
      const row = await db
        .selectFrom('refresh_tokens')
        .selectAll()
        .where('token_hash', '=', hash)
        .executeTakeFirst();
      return row && toRefreshToken(row);
    },

    async markUsed(hash: string, now: number): Promise<boolean> {
      // One conditional UPDATE, no read-then-write: of concurrent refreshes with the same
      // token exactly one changes the row; every other caller sees false (reuse).
      const result = await db
        .updateTable('refresh_tokens')
        .set({ used_at: now })
        .where('token_hash', '=', hash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async deleteForSession(sessionId: string): Promise<number> {
      const result = await db
        .deleteFrom('refresh_tokens')
        .where('session_id', '=', sessionId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function toRefreshToken(row: Selectable<RefreshTokensTable>): RefreshToken {
  return {
    hash: row.token_hash,
    sessionId: row.session_id,
    userId: row.user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at === null ? null : row.used_at,
  };
}
