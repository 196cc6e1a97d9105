// The account_tokens table: keyed hashes of single-use tokens mailed to users (reset, verification).
import type { Kysely, Selectable } from 'kysely';
import { mapConflict } from './errors.ts';
import type { AccountTokensTable, Schema } from './schema.ts';

export type AccountTokenPurpose = 'password_reset' | 'email_verification';

export interface AccountToken {
  hash: string;
  purpose: AccountTokenPurpose;
  userId: string;
  /** Keyed hash of what the token was issued for; the rules compare it when it is used. */
  binding: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export type NewAccountToken = Omit<AccountToken, 'usedAt'>;

export interface AccountTokenRepository {
  /** Stores a new token and deletes every earlier one of the same user and purpose. */
  replace(t: NewAccountToken): Promise<void>;
  findByHash(hash: string): Promise<AccountToken | undefined>;
  /** Marks the token used if it is unused and unexpired; true for exactly one caller. */
  consume(hash: string, purpose: AccountTokenPurpose, now: number): Promise<boolean>;
  /** When the newest token of this user and purpose was issued, if any is stored. */
  lastIssuedAt(userId: string, purpose: AccountTokenPurpose): Promise<number | undefined>;
  /** Deletes tokens that expired at or before `now`; returns how many. */
  deleteExpired(now: number): Promise<number>;
}

export function createAccountTokenRepository(db: Kysely<Schema>): AccountTokenRepository {
  return {
    async replace(t: NewAccountToken): Promise<void> {
      // A newer token makes older ones worthless: delete them rather than keep dead rows.
      await db
        .deleteFrom('account_tokens')
        .where('user_id', '=', t.userId)
        .where('purpose', '=', t.purpose)
        .execute();
      await mapConflict(() =>
        db
          .insertInto('account_tokens')
          .values({
            token_hash: t.hash,
            purpose: t.purpose,
            user_id: t.userId,
            binding: t.binding,
            created_at: t.createdAt,
            expires_at: t.expiresAt,
            used_at: null,
          })
          .execute(),
      );
    },

    async findByHash(hash: string): Promise<AccountToken | undefined> {
      const row = await db
        .selectFrom('account_tokens')
        .selectAll()
        .where('token_hash', '=', hash)
        .executeTakeFirst();
      return row && toAccountToken(row);
    },

    async consume(hash: string, purpose: AccountTokenPurpose, now: number): Promise<boolean> {
      // One conditional UPDATE: of concurrent uses of one token exactly one succeeds.
      const result = await db
        .updateTable('account_tokens')
        .set({ used_at: now })
        .where('token_hash', '=', hash)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async lastIssuedAt(userId: string, purpose: AccountTokenPurpose): Promise<number | undefined> {
      const row = await db
        .selectFrom('account_tokens')
        .select('created_at')
        .where('user_id', '=', userId)
        .where('purpose', '=', purpose)
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row?.created_at;
    },

    async deleteExpired(now: number): Promise<number> {
      const result = await db
        .deleteFrom('account_tokens')
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function toAccountToken(row: Selectable<AccountTokensTable>): AccountToken {
  return {
    hash: row.token_hash,
    purpose: row.purpose as AccountTokenPurpose,
    userId: row.user_id,
    binding: row.binding,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
  };
}
