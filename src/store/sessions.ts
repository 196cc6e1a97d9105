// The sessions table: one row per login (device), the unit that refresh and revocation act on.
import type { Kysely, Selectable } from 'kysely';
import { mapConflict } from './errors.ts';
import { prepare } from './prepared.ts';
import type { Schema, SessionsTable } from './schema.ts';
import { hasNul } from './text.ts';

export interface Session {
  id: string;
  userId: string;
  clientId: string;
  scope: string;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  userAgent: string | null;
  ip: string | null;
  revokedAt: number | null;
  /** When the user last proved who they are (a password, a second factor): the ID token's auth_time. */
  authTime: number;
}

/** A new session; its authTime is its createdAt unless it continues an earlier sign-in. */
export type NewSession = Omit<Session, 'revokedAt' | 'authTime'> & { authTime?: number };

export interface SessionRepository {
  create(s: NewSession): Promise<void>;
  findById(id: string): Promise<Session | undefined>;
  listActive(userId: string, now: number): Promise<Session[]>;
  /** Ids of the unrevoked sessions of a client, expired or not (their tokens may still be live). */
  listOpenIdsOfClient(clientId: string): Promise<string[]>;
  /** Extends a live session; false if it has been revoked (or is gone). */
  touch(id: string, lastUsedAt: number, expiresAt: number): Promise<boolean>;
  revoke(id: string, now: number): Promise<boolean>;
  revokeAllForUser(userId: string, now: number, exceptId?: string): Promise<string[]>;
  deleteExpired(now: number): Promise<number>;
}

// Every refresh reads and touches its session (see prepared.ts).
const byId = prepare(['id'], (db, p) =>
  db.selectFrom('sessions').selectAll().where('id', '=', p.id),
);
const touchSession = prepare(['id', 'lastUsedAt', 'expiresAt'], (db, p) =>
  db
    .updateTable('sessions')
    .set({ last_used_at: p.lastUsedAt, expires_at: p.expiresAt })
    .where('id', '=', p.id)
    .where('revoked_at', 'is', null),
);

// Every login inserts one.
const insertSession = prepare(
  [
    'id',
    'userId',
    'clientId',
    'scope',
    'createdAt',
    'lastUsedAt',
    'expiresAt',
    'userAgent',
    'ip',
    'authTime',
  ],
  (db, p) =>
    db.insertInto('sessions').values({
      id: p.id,
      user_id: p.userId,
      client_id: p.clientId,
      scope: p.scope,
      created_at: p.createdAt,
      last_used_at: p.lastUsedAt,
      expires_at: p.expiresAt,
      user_agent: p.userAgent,
      ip: p.ip,
      revoked_at: null,
      auth_time: p.authTime,
    }),
);

export function createSessionRepository(db: Kysely<Schema>): SessionRepository {
  return {
    async create(s: NewSession): Promise<void> {
      await mapConflict(() =>
        insertSession(db, {
          id: s.id,
          userId: s.userId,
          clientId: s.clientId,
          scope: s.scope,
          createdAt: s.createdAt,
          lastUsedAt: s.lastUsedAt,
          expiresAt: s.expiresAt,
          userAgent: s.userAgent,
          ip: s.ip,
          authTime: s.authTime ?? null,
        }),
      );
    },

    async findById(id: string): Promise<Session | undefined> {
      if (hasNul(id)) return undefined;
      const row = (await byId(db, { id })).rows[0];
      return row && toSession(row);
    },

    async listActive(userId: string, now: number): Promise<Session[]> {
      const rows = await db
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .orderBy('last_used_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      return rows.map(toSession);
    },

    async listOpenIdsOfClient(clientId: string): Promise<string[]> {
      if (hasNul(clientId)) return [];
      const rows = await db
        .selectFrom('sessions')
        .select('id')
        .where('client_id', '=', clientId)
        .where('revoked_at', 'is', null)
        .orderBy('id')
        .execute();
      return rows.map((row) => row.id);
    },

    async touch(id: string, lastUsedAt: number, expiresAt: number): Promise<boolean> {
      // Conditional, so a refresh racing the end of its session cannot outlive it.
      const result = await touchSession(db, { id, lastUsedAt, expiresAt });
      return result.numAffectedRows === 1n;
    },

    async revoke(id: string, now: number): Promise<boolean> {
      // Only the first revocation counts, so the caller records (and audits) it exactly once.
      const result = await db
        .updateTable('sessions')
        .set({ revoked_at: now })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async revokeAllForUser(userId: string, now: number, exceptId?: string): Promise<string[]> {
      let query = db
        .updateTable('sessions')
        .set({ revoked_at: now })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null);
      if (exceptId !== undefined) query = query.where('id', '<>', exceptId);
      const rows = await query.returning('id').execute();
      return rows.map((row) => row.id).sort();
    },

    async deleteExpired(now: number): Promise<number> {
      // Their refresh tokens go with them (ON DELETE CASCADE).
      const result = await db
        .deleteFrom('sessions')
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export function toSession(row: Selectable<SessionsTable>): Session {
  return {
    id: row.id,
    userId: row.user_id,
    clientId: row.client_id,
    scope: row.scope,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    userAgent: row.user_agent,
    ip: row.ip,
    revokedAt: row.revoked_at === null ? null : row.revoked_at,
    authTime: row.auth_time ?? row.created_at,
  };
}
