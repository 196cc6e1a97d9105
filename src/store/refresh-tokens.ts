// The refresh_tokens table: keyed hashes of single-use refresh tokens, one chain per session.
import type { Kysely, Selectable } from 'kysely';
import { mapConflict } from './errors.ts';
import { prepare } from './prepared.ts';
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

// Every refresh runs these three (see prepared.ts).
const insertToken = prepare(['hash', 'sessionId', 'userId', 'createdAt', 'expiresAt'], (db, p) =>
  db.insertInto('refresh_tokens').values({
    token_hash: p.hash,
    session_id: p.sessionId,
    user_id: p.userId,
    created_at: p.createdAt,
    expires_at: p.expiresAt,
    used_at: null,
  }),
);
const byHash = prepare(['hash'], (db, p) =>
  db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', p.hash),
);
const markTokenUsed = prepare(['hash', 'now'], (db, p) =>
  db
    .updateTable('refresh_tokens')
    .set({ used_at: p.now })
    .where('token_hash', '=', p.hash)
    .where('used_at', 'is', null),
);

export function createRefreshTokenRepository(db: Kysely<Schema>): RefreshTokenRepository {
  return {
    async insert(t: NewRefreshToken): Promise<void> {
      await mapConflict(() => insertToken(db, t));
    },

    async findByHash(hash: string): Promise<RefreshToken | undefined> {
      const row = (await byHash(db, { hash })).rows[0];
      return row && toRefreshToken(row);
    },

    async markUsed(hash: string, now: number): Promise<boolean> {
      // One conditional UPDATE, no read-then-write: of concurrent refreshes with the same
      // token exactly one changes the row; every other caller sees false (reuse).
      const result = await markTokenUsed(db, { hash, now });
      return result.numAffectedRows === 1n;
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
