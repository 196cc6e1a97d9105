// The identities table: which identity at which provider (SPEC §9) belongs to which account.
import type { Kysely, Selectable } from 'kysely';
import { mapConflict } from './errors.ts';
import type { IdentitiesTable, Schema } from './schema.ts';
import { hasNul } from './text.ts';

export interface Identity {
  /** The provider's name in IDENTITY_PROVIDERS. */
  provider: string;
  /** The provider's `sub` for the user. */
  subject: string;
  userId: string;
  /** The address the provider gave at the last sign-in, if any. */
  email: string | null;
  linkedAt: number;
  lastUsedAt: number | null;
}

export interface IdentityRepository {
  find(provider: string, subject: string): Promise<Identity | undefined>;
  listForUser(userId: string): Promise<Identity[]>;
  /** Links; a (provider, subject) already linked to any account throws ConflictError. */
  link(identity: Omit<Identity, 'lastUsedAt'>): Promise<Identity>;
  /** Records a sign-in: the time and the address the provider gave this time. */
  touch(provider: string, subject: string, email: string | null, now: number): Promise<void>;
  /** Unlinks the user's identities at that provider; how many there were. */
  unlink(userId: string, provider: string): Promise<number>;
}

export function createIdentityRepository(db: Kysely<Schema>): IdentityRepository {
  return {
    async find(provider, subject): Promise<Identity | undefined> {
      if (hasNul(provider, subject)) return undefined;
      const row = await db
        .selectFrom('identities')
        .selectAll()
        .where('provider', '=', provider)
        .where('subject', '=', subject)
        .executeTakeFirst();
      return row && toIdentity(row);
    },

    async listForUser(userId): Promise<Identity[]> {
      if (hasNul(userId)) return [];
      const rows = await db
        .selectFrom('identities')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('provider')
        .orderBy('linked_at')
        .execute();
      return rows.map(toIdentity);
    },

    async link(identity): Promise<Identity> {
      await mapConflict(() =>
        db
          .insertInto('identities')
          .values({
            provider: identity.provider,
            subject: identity.subject,
            user_id: identity.userId,
            email: identity.email,
            linked_at: identity.linkedAt,
            last_used_at: identity.linkedAt,
          })
          .execute(),
      );
      return { ...identity, lastUsedAt: identity.linkedAt };
    },

    async touch(provider, subject, email, now): Promise<void> {
      await db
        .updateTable('identities')
        .set({ last_used_at: now, email })
        .where('provider', '=', provider)
        .where('subject', '=', subject)
        .execute();
    },

    async unlink(userId, provider): Promise<number> {
      if (hasNul(userId, provider)) return 0;
      const result = await db
        .deleteFrom('identities')
        .where('user_id', '=', userId)
        .where('provider', '=', provider)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function toIdentity(row: Selectable<IdentitiesTable>): Identity {
  return {
    provider: row.provider,
    subject: row.subject,
    userId: row.user_id,
    email: row.email,
    linkedAt: Number(row.linked_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}
