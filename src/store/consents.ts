// The consents table: what a user has allowed each app (scopes, space-delimited), remembered so the
// consent page is shown once per user, client and scopes.
import type { Kysely, Selectable } from 'kysely';
import type { ConsentsTable, Schema } from './schema.ts';
import { hasNul } from './text.ts';

export interface Consent {
  userId: string;
  clientId: string;
  scope: string[];
  createdAt: number;
  updatedAt: number;
}

export interface ConsentRepository {
  find(userId: string, clientId: string): Promise<Consent | undefined>;
  /** Adds scopes to what the user allowed the client (creating the consent when there is none). */
  grant(userId: string, clientId: string, scope: readonly string[], now: number): Promise<Consent>;
  listForUser(userId: string): Promise<Consent[]>;
  /** Forgets the consent; true if there was one. */
  remove(userId: string, clientId: string): Promise<boolean>;
}

export function createConsentRepository(db: Kysely<Schema>): ConsentRepository {
  const find = async (userId: string, clientId: string): Promise<Consent | undefined> => {
    if (hasNul(userId) || hasNul(clientId)) return undefined;
    const row = await db
      .selectFrom('consents')
      .selectAll()
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row && toConsent(row);
  };
  return {
    find,

    async grant(userId, clientId, scope, now): Promise<Consent> {
      const before = await find(userId, clientId);
      const merged = [...new Set([...(before?.scope ?? []), ...scope])];
      // One row per user and client: the upsert keeps the first consent's time.
      await db
        .insertInto('consents')
        .values({
          user_id: userId,
          client_id: clientId,
          scope: merged.join(' '),
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc
            .columns(['user_id', 'client_id'])
            .doUpdateSet({ scope: merged.join(' '), updated_at: now }),
        )
        .execute();
      return {
        userId,
        clientId,
        scope: merged,
        createdAt: before?.createdAt ?? now,
        updatedAt: now,
      };
    },

    async listForUser(userId): Promise<Consent[]> {
      if (hasNul(userId)) return [];
      const rows = await db
        .selectFrom('consents')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('client_id')
        .execute();
      return rows.map(toConsent);
    },

    async remove(userId, clientId): Promise<boolean> {
      if (hasNul(userId) || hasNul(clientId)) return false;
      const result = await db
        .deleteFrom('consents')
        .where('user_id', '=', userId)
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

function toConsent(row: Selectable<ConsentsTable>): Consent {
  return {
    userId: row.user_id,
    clientId: row.client_id,
    scope: row.scope.split(' ').filter(Boolean),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
