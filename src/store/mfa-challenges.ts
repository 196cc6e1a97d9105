// The mfa_challenges table: keyed hashes of the mfa_tokens that link a login's password step to its
// second-factor step, with the scope and client of the login and a count of wrong codes.
import type { Kysely, Selectable } from 'kysely';
import { mapConflict } from './errors.ts';
import type { MfaChallengesTable, Schema } from './schema.ts';

export interface MfaChallenge {
  hash: string;
  userId: string;
  clientId: string;
  scope: string;
  createdAt: number;
  expiresAt: number;
  failures: number;
  usedAt: number | null;
  /** The user's security version when the password step passed. */
  securityVersion: number;
}

export type NewMfaChallenge = Omit<MfaChallenge, 'failures' | 'usedAt'>;

export interface MfaChallengeRepository {
  /** Stores a challenge and deletes the user's spent or expired ones. */
  insert(c: NewMfaChallenge): Promise<void>;
  findByHash(hash: string): Promise<MfaChallenge | undefined>;
  /** Counts one wrong code; returns the new count (0 when the challenge is gone). */
  recordFailure(hash: string): Promise<number>;
  /** Marks the challenge used if it is unused and unexpired; true for exactly one caller. */
  consume(hash: string, now: number): Promise<boolean>;
  /** Deletes challenges that expired at or before `now`; returns how many. */
  deleteExpired(now: number): Promise<number>;
}

export function createMfaChallengeRepository(db: Kysely<Schema>): MfaChallengeRepository {
  return {
    async insert(c: NewMfaChallenge): Promise<void> {
      await db
        .deleteFrom('mfa_challenges')
        .where('user_id', '=', c.userId)
        .where((eb) => eb.or([eb('used_at', 'is not', null), eb('expires_at', '<=', c.createdAt)]))
        .execute();
      await mapConflict(() =>
        db
          .insertInto('mfa_challenges')
          .values({
            token_hash: c.hash,
            user_id: c.userId,
            client_id: c.clientId,
            scope: c.scope,
            created_at: c.createdAt,
            expires_at: c.expiresAt,
            failures: 0,
            used_at: null,
            security_version: c.securityVersion,
          })
          .execute(),
      );
    },

    async findByHash(hash: string): Promise<MfaChallenge | undefined> {
      const row = await db
        .selectFrom('mfa_challenges')
        .selectAll()
        .where('token_hash', '=', hash)
        .executeTakeFirst();
      return row && toChallenge(row);
    },

    async recordFailure(hash: string): Promise<number> {
      const row = await db
        .updateTable('mfa_challenges')
        .set((eb) => ({ failures: eb('failures', '+', 1) }))
        .where('token_hash', '=', hash)
        .returning('failures')
        .executeTakeFirst();
      return row ? Number(row.failures) : 0;
    },

    async consume(hash: string, now: number): Promise<boolean> {
      const result = await db
        .updateTable('mfa_challenges')
        .set({ used_at: now })
        .where('token_hash', '=', hash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async deleteExpired(now: number): Promise<number> {
      const result = await db
        .deleteFrom('mfa_challenges')
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function toChallenge(row: Selectable<MfaChallengesTable>): MfaChallenge {
  return {
    hash: row.token_hash,
    userId: row.user_id,
    clientId: row.client_id,
    scope: row.scope,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    failures: Number(row.failures),
    usedAt: row.used_at,
    securityVersion: Number(row.security_version),
  };
}
