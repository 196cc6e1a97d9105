// The refresh_tokens table: keyed hashes of single-use refresh tokens, one chain per session.
import { type Kysely, type Selectable, sql } from 'kysely';
import { mapConflict } from './errors.ts';
import { selectList, unprefixed } from './joined.ts';
import { prepare } from './prepared.ts';
import type { RefreshTokensTable, Schema, SessionsTable } from './schema.ts';
import { type Session, toSession } from './sessions.ts';
import { hasNul } from './text.ts';
import { ROW_COLUMNS, toUser, type User } from './users.ts';

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
  /** The token with its session and user, in one read (every refresh starts with it). */
  findWithSession(
    hash: string,
  ): Promise<{ token: RefreshToken; session: Session; user: User } | undefined>;
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

// The columns of the two tables besides users (users.ts has its own), for the joined read.
const TOKEN_COLUMNS = [
  'token_hash',
  'session_id',
  'user_id',
  'created_at',
  'expires_at',
  'used_at',
] as const satisfies ReadonlyArray<keyof RefreshTokensTable>;
const SESSION_COLUMNS = [
  'id',
  'user_id',
  'client_id',
  'scope',
  'created_at',
  'last_used_at',
  'expires_at',
  'user_agent',
  'ip',
  'revoked_at',
  'auth_time',
] as const satisfies ReadonlyArray<keyof SessionsTable>;
// A token's session and user exist while it does (foreign keys, ON DELETE CASCADE): an inner join.
const withSession = prepare(['hash'], (db, p) => ({
  compile: () =>
    sql<Record<string, unknown>>`select ${sql.raw(
      [
        selectList('t', TOKEN_COLUMNS),
        selectList('s', SESSION_COLUMNS),
        selectList('u', ROW_COLUMNS),
      ].join(', '),
    )}
from refresh_tokens t join sessions s on s.id = t.session_id join users u on u.id = t.user_id
where t.token_hash = ${p.hash}`.compile(db),
}));

export function createRefreshTokenRepository(db: Kysely<Schema>): RefreshTokenRepository {
  return {
    async insert(t: NewRefreshToken): Promise<void> {
      await mapConflict(() => insertToken(db, t));
    },

    async findByHash(hash: string): Promise<RefreshToken | undefined> {
      const row = (await byHash(db, { hash })).rows[0];
      return row && toRefreshToken(row);
    },

    async findWithSession(hash: string) {
      if (hasNul(hash)) return undefined;
      const row = (await withSession(db, { hash })).rows[0];
      if (!row) return undefined;
      return {
        token: toRefreshToken(unprefixed(row, 't', TOKEN_COLUMNS)),
        session: toSession(unprefixed(row, 's', SESSION_COLUMNS)),
        user: toUser(unprefixed(row, 'u', ROW_COLUMNS)),
      };
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
