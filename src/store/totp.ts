// The TOTP tables: one sealed secret per user with its last accepted time step, and recovery codes.
import type { Kysely, Selectable } from 'kysely';
import { mapConflict } from './errors.ts';
import { prepare } from './prepared.ts';
import type { Schema, TotpCredentialsTable } from './schema.ts';

export interface TotpCredential {
  userId: string;
  /** The secret, encrypted (sealText); never stored or returned in the clear. */
  secretSealed: string;
  createdAt: number;
  /** null while enrolment is pending. */
  confirmedAt: number | null;
  /** The newest time step accepted; a code of this step or an older one is refused. */
  lastStep: number | null;
}

export interface TotpRepository {
  find(userId: string): Promise<TotpCredential | undefined>;
  /** Up to `limit` credentials (pending ones too) of user ids after `afterUserId`, in id order. */
  listAfter(afterUserId: string | null, limit: number): Promise<TotpCredential[]>;
  /** A new pending secret, replacing a pending one; a confirmed one makes it a ConflictError. */
  savePending(userId: string, secretSealed: string, now: number): Promise<void>;
  /** Records `step` as used if it is newer than the last one; true for exactly one caller. */
  useStep(userId: string, step: number): Promise<boolean>;
  /** Replaces the sealed secret if it is still `from` (not re-enrolled meanwhile); true if it was. */
  reseal(userId: string, from: string, to: string): Promise<boolean>;
  /** Turns a pending enrolment on; false if there was none. */
  confirm(userId: string, now: number): Promise<boolean>;
  delete(userId: string): Promise<boolean>;
}

// Every password login asks whether the account has a second factor.
const credentialOf = prepare(['userId'], (db, p) =>
  db.selectFrom('totp_credentials').selectAll().where('user_id', '=', p.userId),
);

export function createTotpRepository(db: Kysely<Schema>): TotpRepository {
  return {
    async find(userId: string): Promise<TotpCredential | undefined> {
      const row = (await credentialOf(db, { userId })).rows[0];
      return row && toCredential(row);
    },

    async listAfter(afterUserId: string | null, limit: number): Promise<TotpCredential[]> {
      let query = db.selectFrom('totp_credentials').selectAll().orderBy('user_id').limit(limit);
      if (afterUserId !== null) query = query.where('user_id', '>', afterUserId);
      return (await query.execute()).map(toCredential);
    },

    async savePending(userId: string, secretSealed: string, now: number): Promise<void> {
      await db
        .deleteFrom('totp_credentials')
        .where('user_id', '=', userId)
        .where('confirmed_at', 'is', null)
        .execute();
      await mapConflict(() =>
        db
          .insertInto('totp_credentials')
          .values({
            user_id: userId,
            secret_sealed: secretSealed,
            created_at: now,
            confirmed_at: null,
            last_step: null,
          })
          .execute(),
      );
    },

    async useStep(userId: string, step: number): Promise<boolean> {
      // The conditional UPDATE is the replay lock: a step is accepted once, and never an older one.
      const result = await db
        .updateTable('totp_credentials')
        .set({ last_step: step })
        .where('user_id', '=', userId)
        .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async reseal(userId: string, from: string, to: string): Promise<boolean> {
      // Conditional on the old text: a concurrent re-enrolment or removal is never overwritten.
      const result = await db
        .updateTable('totp_credentials')
        .set({ secret_sealed: to })
        .where('user_id', '=', userId)
        .where('secret_sealed', '=', from)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async confirm(userId: string, now: number): Promise<boolean> {
      const result = await db
        .updateTable('totp_credentials')
        .set({ confirmed_at: now })
        .where('user_id', '=', userId)
        .where('confirmed_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async delete(userId: string): Promise<boolean> {
      const result = await db
        .deleteFrom('totp_credentials')
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

function toCredential(row: Selectable<TotpCredentialsTable>): TotpCredential {
  return {
    userId: row.user_id,
    secretSealed: row.secret_sealed,
    createdAt: row.created_at,
    confirmedAt: row.confirmed_at,
    lastStep: row.last_step,
  };
}

export interface RecoveryCodeRepository {
  /** Replaces every code of the user with these hashes. */
  replace(userId: string, hashes: readonly string[], now: number): Promise<void>;
  /** Marks the code used if it is the user's and unused; true for exactly one caller. */
  consume(userId: string, hash: string, now: number): Promise<boolean>;
  countUnused(userId: string): Promise<number>;
  deleteAll(userId: string): Promise<number>;
}

export function createRecoveryCodeRepository(db: Kysely<Schema>): RecoveryCodeRepository {
  return {
    async replace(userId: string, hashes: readonly string[], now: number): Promise<void> {
      await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
      if (hashes.length === 0) return;
      await mapConflict(() =>
        db
          .insertInto('recovery_codes')
          .values(
            hashes.map((h) => ({ user_id: userId, code_hash: h, created_at: now, used_at: null })),
          )
          .execute(),
      );
    },

    async consume(userId: string, hash: string, now: number): Promise<boolean> {
      const result = await db
        .updateTable('recovery_codes')
        .set({ used_at: now })
        .where('user_id', '=', userId)
        .where('code_hash', '=', hash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async countUnused(userId: string): Promise<number> {
      const row = await db
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async deleteAll(userId: string): Promise<number> {
      const result = await db
        .deleteFrom('recovery_codes')
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
