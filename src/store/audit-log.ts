// The audit_log table: an append-only hash chain. Each entry stores the hash of the previous one
// and its own hash over (previous hash, canonical content), so editing, removing or reordering a
// stored entry breaks the chain from that row on (`portcullis audit verify`).
import { createHash } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { prepare } from './prepared.ts';
import type { AuditLogTable, Schema } from './schema.ts';
import { hasNul } from './text.ts';

export interface NewAuditEntry {
  at: number;
  type: string;
  actorId: string | null;
  subjectId: string | null;
  ip: string | null;
  userAgent: string | null;
  /** Canonical JSON text (see canonicalJson). */
  details: string;
}

export interface AuditEntry extends NewAuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

export interface AuditQuery {
  limit: number;
  /** Entries older than this seq (the cursor). */
  beforeSeq?: number;
  types?: readonly string[];
  actorId?: string;
  subjectId?: string;
  /** Entries whose actor or subject is this user. */
  userId?: string;
  /** Inclusive bounds on `at` (ms). */
  since?: number;
  until?: number;
}

export interface AuditRepository {
  /** Appends one entry at the head of the chain; joins the caller's transaction if there is one. */
  append(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Newest first. */
  list(query: AuditQuery): Promise<AuditEntry[]>;
  /** Oldest first, from the entry after `afterSeq`: the walk of `audit verify`. */
  scan(afterSeq: number, limit: number): Promise<AuditEntry[]>;
  head(): Promise<{ seq: number; hash: string }>;
}

/** JSON with object keys sorted at every level: one text for one value, whatever the key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** sha256(prev_hash "\n" JSON array of the entry's columns), hex. */
export function chainHash(prevHash: string, e: NewAuditEntry & { seq: number }): string {
  return createHash('sha256')
    .update(`${prevHash}\n[${e.seq},${chainTail(e)}`, 'utf8')
    .digest('hex');
}

/**
 * The hashed JSON array after its first element (the seq): `at,type,…,details]`. PostgreSQL's
 * one-statement sign-in (session-writes.ts) hashes the same text with the seq it takes there.
 */
export function chainTail(e: NewAuditEntry): string {
  // JSON.stringify([seq, …rest]) is "[" + seq + "," + JSON.stringify(rest).slice(1) for an integer seq.
  return JSON.stringify([e.at, e.type, e.actorId, e.subjectId, e.ip, e.userAgent, e.details]).slice(
    1,
  );
}

// Every login, refresh reuse, registration and admin change appends (see prepared.ts).
// The UPDATE takes the head row's lock (PostgreSQL) until the transaction ends, so concurrent
// writers append one after another; SQLite transactions hold the write lock already.
const advanceHead = prepare([], (db) =>
  db
    .updateTable('audit_head')
    .set((eb) => ({ seq: eb('seq', '+', 1) }))
    .where('id', '=', 1)
    .returning(['seq', 'hash']),
);
const insertEntry = prepare(
  ['seq', 'at', 'type', 'actorId', 'subjectId', 'ip', 'userAgent', 'details', 'prevHash', 'hash'],
  (db, p) =>
    db.insertInto('audit_log').values({
      seq: p.seq,
      at: p.at,
      type: p.type,
      actor_id: p.actorId,
      subject_id: p.subjectId,
      ip: p.ip,
      user_agent: p.userAgent,
      details: p.details,
      prev_hash: p.prevHash,
      hash: p.hash,
    }),
);
const setHeadHash = prepare(['hash'], (db, p) =>
  db.updateTable('audit_head').set({ hash: p.hash }).where('id', '=', 1),
);

export function createAuditRepository(db: Kysely<Schema>): AuditRepository {
  async function appendIn(trx: Kysely<Schema>, entry: NewAuditEntry): Promise<AuditEntry> {
    const head = (await advanceHead(trx, {})).rows[0];
    if (!head) throw new Error('the audit_head row is missing');
    const seq = Number(head.seq);
    const hash = chainHash(head.hash, { ...entry, seq });
    await insertEntry(trx, {
      seq,
      at: entry.at,
      type: entry.type,
      actorId: entry.actorId,
      subjectId: entry.subjectId,
      ip: entry.ip,
      userAgent: entry.userAgent,
      details: entry.details,
      prevHash: head.hash,
      hash,
    });
    await setHeadHash(trx, { hash });
    return { ...entry, seq, prevHash: head.hash, hash };
  }

  return {
    async append(entry: NewAuditEntry): Promise<AuditEntry> {
      // Outside a transaction the three statements would race another writer: make one.
      if (db.isTransaction) return appendIn(db, entry);
      return db.transaction().execute((trx) => appendIn(trx, entry));
    },

    async list(q: AuditQuery): Promise<AuditEntry[]> {
      if (hasNul(q.actorId, q.subjectId, q.userId, ...(q.types ?? []))) return [];
      let query = db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(q.limit);
      if (q.beforeSeq !== undefined) query = query.where('seq', '<', q.beforeSeq);
      if (q.types !== undefined && q.types.length > 0) query = query.where('type', 'in', q.types);
      if (q.actorId !== undefined) query = query.where('actor_id', '=', q.actorId);
      if (q.subjectId !== undefined) query = query.where('subject_id', '=', q.subjectId);
      const userId = q.userId;
      if (userId !== undefined) {
        query = query.where((eb) =>
          eb.or([eb('actor_id', '=', userId), eb('subject_id', '=', userId)]),
        );
      }
      if (q.since !== undefined) query = query.where('at', '>=', q.since);
      if (q.until !== undefined) query = query.where('at', '<=', q.until);
      return (await query.execute()).map(toEntry);
    },

    async scan(afterSeq: number, limit: number): Promise<AuditEntry[]> {
      const rows = await db
        .selectFrom('audit_log')
        .selectAll()
        .where('seq', '>', afterSeq)
        .orderBy('seq', 'asc')
        .limit(limit)
        .execute();
      return rows.map(toEntry);
    },

    async head(): Promise<{ seq: number; hash: string }> {
      const row = await db
        .selectFrom('audit_head')
        .select(['seq', 'hash'])
        .where('id', '=', 1)
        .executeTakeFirstOrThrow();
      return { seq: Number(row.seq), hash: row.hash };
    },
  };
}

function toEntry(row: Selectable<AuditLogTable>): AuditEntry {
  return {
    seq: Number(row.seq),
    at: Number(row.at),
    type: row.type,
    actorId: row.actor_id,
    subjectId: row.subject_id,
    ip: row.ip,
    userAgent: row.user_agent,
    details: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
