// The passkey tables: each user's WebAuthn credentials, and the single-use challenges of the
// registration and sign-in ceremonies.
import type { Kysely, Selectable } from 'kysely';
import { mapConflict } from './errors.ts';
import type { Schema, WebauthnChallengesTable, WebauthnCredentialsTable } from './schema.ts';

export interface PasskeyCredential {
  id: string;
  userId: string;
  /** base64url, as the browser reports it. */
  credentialId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export type NewPasskeyCredential = Omit<PasskeyCredential, 'lastUsedAt'>;

export type ChallengePurpose = 'register' | 'login';

export interface PasskeyChallenge {
  challenge: string;
  bindingHash: string;
  purpose: ChallengePurpose;
  userId: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface PasskeyRepository {
  /** A ConflictError when the credential id is registered already (to anyone). */
  insert(c: NewPasskeyCredential): Promise<void>;
  findById(id: string): Promise<PasskeyCredential | undefined>;
  findByCredentialId(credentialId: string): Promise<PasskeyCredential | undefined>;
  listByUser(userId: string): Promise<PasskeyCredential[]>;
  countByUser(userId: string): Promise<number>;
  /** Counts for many users at once (the admin list). */
  countByUsers(userIds: readonly string[]): Promise<Map<string, number>>;
  rename(userId: string, id: string, name: string): Promise<PasskeyCredential | undefined>;
  /**
   * Records a use: the new counter (only if it is still `from`, so two concurrent uses of one
   * counter value cannot both pass) and the time. True for exactly one caller.
   */
  recordUse(id: string, from: number, to: number, now: number): Promise<boolean>;
  delete(userId: string, id: string): Promise<boolean>;
}

export interface PasskeyChallengeRepository {
  /** Stores a challenge and deletes the browser's expired ones. */
  insert(c: PasskeyChallenge): Promise<void>;
  /**
   * Deletes the challenge if it is this browser's, for this purpose (and user), and unexpired, and
   * returns it: one atomic conditional DELETE, so of concurrent callers at most one gets it.
   */
  consume(
    challenge: string,
    match: { bindingHash: string; purpose: ChallengePurpose; userId: string | null },
    now: number,
  ): Promise<PasskeyChallenge | undefined>;
  deleteExpired(now: number): Promise<number>;
}

export function createPasskeyRepository(db: Kysely<Schema>): PasskeyRepository {
  return {
    async insert(c: NewPasskeyCredential): Promise<void> {
      await mapConflict(() =>
        db
          .insertInto('webauthn_credentials')
          .values({
            id: c.id,
            user_id: c.userId,
            credential_id: c.credentialId,
            public_key: c.publicKey,
            counter: c.counter,
            transports: JSON.stringify(c.transports),
            device_type: c.deviceType,
            backed_up: c.backedUp ? 1 : 0,
            name: c.name,
            created_at: c.createdAt,
            last_used_at: null,
          })
          .execute(),
      );
    },

    async findById(id: string): Promise<PasskeyCredential | undefined> {
      const row = await db
        .selectFrom('webauthn_credentials')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toCredential(row);
    },

    async findByCredentialId(credentialId: string): Promise<PasskeyCredential | undefined> {
      const row = await db
        .selectFrom('webauthn_credentials')
        .selectAll()
        .where('credential_id', '=', credentialId)
        .executeTakeFirst();
      return row && toCredential(row);
    },

    async listByUser(userId: string): Promise<PasskeyCredential[]> {
      const rows = await db
        .selectFrom('webauthn_credentials')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toCredential);
    },

    async countByUser(userId: string): Promise<number> {
      const row = await db
        .selectFrom('webauthn_credentials')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async countByUsers(userIds: readonly string[]): Promise<Map<string, number>> {
      const counts = new Map<string, number>();
      if (userIds.length === 0) return counts;
      const rows = await db
        .selectFrom('webauthn_credentials')
        .select((eb) => ['user_id', eb.fn.countAll<number>().as('n')])
        .where('user_id', 'in', [...userIds])
        .groupBy('user_id')
        .execute();
      for (const row of rows) counts.set(row.user_id, Number(row.n));
      return counts;
    },

    async rename(userId: string, id: string, name: string): Promise<PasskeyCredential | undefined> {
      const row = await db
        .updateTable('webauthn_credentials')
        .set({ name })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .returningAll()
        .executeTakeFirst();
      return row && toCredential(row);
    },

    async recordUse(id: string, from: number, to: number, now: number): Promise<boolean> {
      const result = await db
        .updateTable('webauthn_credentials')
        .set({ counter: to, last_used_at: now })
        .where('id', '=', id)
        .where('counter', '=', from)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async delete(userId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('webauthn_credentials')
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

export function createPasskeyChallengeRepository(db: Kysely<Schema>): PasskeyChallengeRepository {
  return {
    async insert(c: PasskeyChallenge): Promise<void> {
      await db
        .deleteFrom('webauthn_challenges')
        .where('binding_hash', '=', c.bindingHash)
        .where('expires_at', '<=', c.createdAt)
        .execute();
      await mapConflict(() =>
        db
          .insertInto('webauthn_challenges')
          .values({
            challenge: c.challenge,
            binding_hash: c.bindingHash,
            purpose: c.purpose,
            user_id: c.userId,
            created_at: c.createdAt,
            expires_at: c.expiresAt,
          })
          .execute(),
      );
    },

    async consume(challenge, match, now): Promise<PasskeyChallenge | undefined> {
      // DELETE … RETURNING is the single-use lock on both databases: one statement, one winner.
      let query = db
        .deleteFrom('webauthn_challenges')
        .where('challenge', '=', challenge)
        .where('binding_hash', '=', match.bindingHash)
        .where('purpose', '=', match.purpose)
        .where('expires_at', '>', now);
      query =
        match.userId === null
          ? query.where('user_id', 'is', null)
          : query.where('user_id', '=', match.userId);
      const row = await query.returningAll().executeTakeFirst();
      return row && toChallenge(row);
    },

    async deleteExpired(now: number): Promise<number> {
      const result = await db
        .deleteFrom('webauthn_challenges')
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function toCredential(row: Selectable<WebauthnCredentialsTable>): PasskeyCredential {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    counter: Number(row.counter),
    transports: parseTransports(row.transports),
    deviceType: row.device_type,
    backedUp: Number(row.backed_up) === 1,
    name: row.name,
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

function parseTransports(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

function toChallenge(row: Selectable<WebauthnChallengesTable>): PasskeyChallenge {
  return {
    challenge: row.challenge,
    bindingHash: row.binding_hash,
    purpose: row.purpose === 'register' ? 'register' : 'login',
    userId: row.user_id,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}
