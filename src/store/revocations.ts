// The revocations table: the token deny-list (sessions and per-user "valid after" marks),
// read into memory by the server so verifying an access token never touches the database.
import { type Kysely, PostgresAdapter, type Selectable, sql } from 'kysely';
import { mapConflict } from './errors.ts';
import type { RevocationsTable, Schema } from './schema.ts';

export type RevocationKind = 'session' | 'user';

export interface Revocation {
  id: string;
  kind: RevocationKind;
  subject: string;
  at: number;
  expiresAt: number;
}

/**
 * A position in the order the database commits revocations in (opaque: an AUTOINCREMENT number on
 * SQLite, a transaction id on PostgreSQL). Every entry committed after `cursor()` was taken is
 * returned by `listAfter` of it; an entry may be returned more than once, applying it is idempotent.
 */
export type RevocationCursor = string;

export interface RevocationRepository {
  insert(r: Revocation): Promise<void>;
  listActive(now: number): Promise<Revocation[]>;
  /** The position now; take it before reading the active entries, then poll with listAfter. */
  cursor(): Promise<RevocationCursor>;
  listAfter(cursor: RevocationCursor): Promise<{ entries: Revocation[]; cursor: RevocationCursor }>;
  deleteExpired(now: number): Promise<number>;
}

export function createRevocationRepository(db: Kysely<Schema>): RevocationRepository {
  const ordering = db.getExecutor().adapter instanceof PostgresAdapter ? pgOrder : sqliteOrder;
  return {
    async insert(r: Revocation): Promise<void> {
      await mapConflict(() =>
        db
          .insertInto('revocations')
          .values({
            id: r.id,
            kind: r.kind,
            subject: r.subject,
            at: r.at,
            expires_at: r.expiresAt,
          })
          .execute(),
      );
    },

    async listActive(now: number): Promise<Revocation[]> {
      const rows = await db
        .selectFrom('revocations')
        .selectAll()
        .where('expires_at', '>', now)
        .orderBy('at', 'asc')
        .orderBy('id', 'asc')
        .execute();
      return rows.map(toRevocation);
    },

    cursor: () => ordering.cursor(db),
    listAfter: (cursor) => ordering.listAfter(db, cursor),

    async deleteExpired(now: number): Promise<number> {
      const result = await db
        .deleteFrom('revocations')
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

interface Ordering {
  cursor(db: Kysely<Schema>): Promise<RevocationCursor>;
  listAfter(
    db: Kysely<Schema>,
    cursor: RevocationCursor,
  ): Promise<{ entries: Revocation[]; cursor: RevocationCursor }>;
}

// Polling by wall-clock time missed entries written by a host whose clock is behind, or committed
// seconds after their time was taken. These orders come from the database itself.

// SQLite: one writer at a time, holding the lock from its first write to its commit, so the
// AUTOINCREMENT `seq` of committed rows is always a prefix: everything unseen is above the cursor.
const sqliteOrder: Ordering = {
  async cursor(db) {
    const { rows } = await sql<{ seq: number | null }>`
      select max(seq) as seq from revocations`.execute(db);
    return String(rows[0]?.seq ?? 0);
  },
  async listAfter(db, cursor) {
    const after = Number(toCursorNumber(cursor));
    const { rows } = await sql<Selectable<RevocationsTable> & { seq: number }>`
      select seq, id, kind, subject, at, expires_at from revocations
      where seq > ${after} order by seq`.execute(db);
    const last = rows.at(-1)?.seq ?? after;
    return { entries: rows.map(toRevocation), cursor: String(last) };
  },
};

// PostgreSQL: a bigserial is not enough (a number taken by a slow transaction commits after higher
// ones), so each row keeps the id of the transaction that wrote it (xid8). Every transaction below
// a snapshot's xmin has ended, so nothing can still commit there: the next cursor is that xmin
// (taken before the read), and rows at or above it are read again until the horizon passes them.
// Chosen over an advisory lock around inserts, which would queue every revoking transaction behind
// a slow one. The cost: while a long writing transaction is open, its later rows are re-read.
const pgOrder: Ordering = {
  async cursor(db) {
    const { rows } = await sql<{ xmin: string }>`
      select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`.execute(db);
    return rows[0]?.xmin ?? '0';
  },
  async listAfter(db, cursor) {
    const from = toCursorNumber(cursor);
    const next = await pgOrder.cursor(db);
    const { rows } = await sql<Selectable<RevocationsTable>>`
      select id, kind, subject, at, expires_at from revocations
      where xid >= ${String(from)}::xid8 order by xid, id`.execute(db);
    // xmin never moves back; the max only guards the cursor against a caller's stale value.
    const cursorOut = BigInt(next) > from ? next : String(from);
    return { entries: rows.map(toRevocation), cursor: cursorOut };
  },
};

function toCursorNumber(cursor: RevocationCursor): bigint {
  // Our own value round-tripped; anything else is a bug, and reading from 0 is the safe answer.
  return /^\d{1,20}$/.test(cursor) ? BigInt(cursor) : 0n;
}

function toRevocation(row: Selectable<RevocationsTable>): Revocation {
  return {
    id: row.id,
    kind: toKind(row.kind),
    subject: row.subject,
    at: row.at,
    expiresAt: row.expires_at,
  };
}

function toKind(kind: string): RevocationKind {
  if (kind === 'session' || kind === 'user') return kind;
  // An unknown kind means a newer schema or corruption; guessing could drop a revocation.
  throw new Error(`revocations: unknown kind ${JSON.stringify(kind)}`);
}
