// The authorization_codes table: keyed hashes of the codes /authorize hands out, each bound to the
// client, redirect URI, PKCE challenge, user, scopes, nonce and time of sign-in it was issued for.
import { type Kysely, type Selectable, sql } from 'kysely';
import { CLIENT_COLUMNS, type Client, toClient } from './clients.ts';
import { mapConflict } from './errors.ts';
import { selectList, unprefixed } from './joined.ts';
import { prepare } from './prepared.ts';
import type { AuthorizationCodesTable, Schema } from './schema.ts';
import { hasNul } from './text.ts';
import { ROW_COLUMNS, toUser, type User } from './users.ts';

export interface AuthorizationCode {
  hash: string;
  clientId: string;
  userId: string;
  redirectUri: string | null;
  codeChallenge: string;
  scope: string;
  nonce: string | null;
  authTime: number;
  securityVersion: number;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  sessionId: string | null;
}

export type NewAuthorizationCode = Omit<AuthorizationCode, 'usedAt' | 'sessionId'>;

export interface AuthorizationCodeRepository {
  insert(code: NewAuthorizationCode): Promise<void>;
  findByHash(hash: string): Promise<AuthorizationCode | undefined>;
  /** The code with its user, in one read (every exchange starts with it). */
  findWithUser(hash: string): Promise<{ code: AuthorizationCode; user: User } | undefined>;
  /** The code with its user and client, in one read (the exchange of a public client). */
  findWithUserAndClient(
    hash: string,
  ): Promise<{ code: AuthorizationCode; user: User; client: Client } | undefined>;
  /**
   * Marks the code used by the session its exchange starts (so a replay can end it), if it is
   * unused and unexpired; true for exactly one caller.
   */
  consume(hash: string, now: number, sessionId: string): Promise<boolean>;
  /** Deletes codes that expired at or before `now`; returns how many. */
  deleteExpired(now: number): Promise<number>;
}

// Every code exchange reads its code and spends it (see prepared.ts).
const byHash = prepare(['hash'], (db, p) =>
  db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', p.hash),
);
const CODE_COLUMNS = [
  'code_hash',
  'client_id',
  'user_id',
  'redirect_uri',
  'code_challenge',
  'scope',
  'nonce',
  'auth_time',
  'security_version',
  'created_at',
  'expires_at',
  'used_at',
  'session_id',
] as const satisfies ReadonlyArray<keyof AuthorizationCodesTable>;
// A code's user exists while it does (ON DELETE CASCADE): an inner join.
const withUser = prepare(['hash'], (db, p) => ({
  compile: () =>
    sql<Record<string, unknown>>`select ${sql.raw(
      `${selectList('c', CODE_COLUMNS)}, ${selectList('u', ROW_COLUMNS)}`,
    )}
from authorization_codes c join users u on u.id = c.user_id
where c.code_hash = ${p.hash}`.compile(db),
}));
// A code's client exists while it does (ON DELETE CASCADE) too.
const withUserAndClient = prepare(['hash'], (db, p) => ({
  compile: () =>
    sql<Record<string, unknown>>`select ${sql.raw(
      `${selectList('c', CODE_COLUMNS)}, ${selectList('u', ROW_COLUMNS)}, ${selectList('k', CLIENT_COLUMNS)}`,
    )}
from authorization_codes c join users u on u.id = c.user_id join clients k on k.client_id = c.client_id
where c.code_hash = ${p.hash}`.compile(db),
}));
const consumeCode = prepare(['hash', 'now', 'sessionId'], (db, p) =>
  db
    .updateTable('authorization_codes')
    .set({ used_at: p.now, session_id: p.sessionId })
    .where('code_hash', '=', p.hash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', p.now),
);

export function createAuthorizationCodeRepository(db: Kysely<Schema>): AuthorizationCodeRepository {
  return {
    async insert(c: NewAuthorizationCode): Promise<void> {
      await mapConflict(() =>
        db
          .insertInto('authorization_codes')
          .values({
            code_hash: c.hash,
            client_id: c.clientId,
            user_id: c.userId,
            redirect_uri: c.redirectUri,
            code_challenge: c.codeChallenge,
            scope: c.scope,
            nonce: c.nonce,
            auth_time: c.authTime,
            security_version: c.securityVersion,
            created_at: c.createdAt,
            expires_at: c.expiresAt,
            used_at: null,
            session_id: null,
          })
          .execute(),
      );
    },

    async findByHash(hash: string): Promise<AuthorizationCode | undefined> {
      if (hasNul(hash)) return undefined;
      const row = (await byHash(db, { hash })).rows[0];
      return row && toCode(row);
    },

    async findWithUser(hash: string) {
      if (hasNul(hash)) return undefined;
      const row = (await withUser(db, { hash })).rows[0];
      if (!row) return undefined;
      return {
        code: toCode(unprefixed(row, 'c', CODE_COLUMNS)),
        user: toUser(unprefixed(row, 'u', ROW_COLUMNS)),
      };
    },

    async findWithUserAndClient(hash: string) {
      if (hasNul(hash)) return undefined;
      const row = (await withUserAndClient(db, { hash })).rows[0];
      if (!row) return undefined;
      return {
        code: toCode(unprefixed(row, 'c', CODE_COLUMNS)),
        user: toUser(unprefixed(row, 'u', ROW_COLUMNS)),
        client: toClient(unprefixed(row, 'k', CLIENT_COLUMNS)),
      };
    },

    async consume(hash: string, now: number, sessionId: string): Promise<boolean> {
      // Conditional: of two exchanges of one code at the same moment exactly one wins.
      const result = await consumeCode(db, { hash, now, sessionId });
      return result.numAffectedRows === 1n;
    },

    async deleteExpired(now: number): Promise<number> {
      const result = await db
        .deleteFrom('authorization_codes')
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function toCode(row: Selectable<AuthorizationCodesTable>): AuthorizationCode {
  return {
    hash: row.code_hash,
    clientId: row.client_id,
    userId: row.user_id,
    redirectUri: row.redirect_uri,
    codeChallenge: row.code_challenge,
    scope: row.scope,
    nonce: row.nonce,
    authTime: Number(row.auth_time),
    securityVersion: Number(row.security_version),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    usedAt: row.used_at === null ? null : Number(row.used_at),
    sessionId: row.session_id,
  };
}
