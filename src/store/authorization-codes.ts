// The authorization_codes table: keyed hashes of the codes /authorize hands out, each bound to the
// client, redirect URI, PKCE challenge, user, scopes, nonce and time of sign-in it was issued for.
import type { Kysely, Selectable } from 'kysely';
import { mapConflict } from './errors.ts';
import type { AuthorizationCodesTable, Schema } from './schema.ts';
import { hasNul } from './text.ts';

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
  /** Marks the code used if it is unused and unexpired; true for exactly one caller. */
  consume(hash: string, now: number): Promise<boolean>;
  /** Records the session the code's exchange started (so a replay can end it). */
  setSession(hash: string, sessionId: string): Promise<void>;
  /** Deletes codes that expired at or before `now`; returns how many. */
  deleteExpired(now: number): Promise<number>;
}

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
      const row = await db
        .selectFrom('authorization_codes')
        .selectAll()
        .where('code_hash', '=', hash)
        .executeTakeFirst();
      return row && toCode(row);
    },

    async consume(hash: string, now: number): Promise<boolean> {
      // Conditional: of two exchanges of one code at the same moment exactly one wins.
      const result = await db
        .updateTable('authorization_codes')
        .set({ used_at: now })
        .where('code_hash', '=', hash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async setSession(hash: string, sessionId: string): Promise<void> {
      await db
        .updateTable('authorization_codes')
        .set({ session_id: sessionId })
        .where('code_hash', '=', hash)
        .execute();
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
