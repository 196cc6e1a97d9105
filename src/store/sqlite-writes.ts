// SQLite's sign-in and rotation writes, run on node:sqlite directly and committed in groups.
//
// Through Kysely each statement is a query compiled, queued on the connection's mutex and awaited
// (several promise turns, ~10 µs), though node:sqlite answers it synchronously in 1–15 µs. Here
// the writes asked for in one turn of the event loop run as one synchronous block on Kysely's own
// connection (held for the block, so no other query interleaves): BEGIN IMMEDIATE, the writes,
// one COMMIT, then every caller is answered (a refused or failing write fails alone, exactly as
// in its own transaction: see commitGroup). The commit is the dear part of a SQLite
// write (every changed page appended to the WAL, two system calls each): concurrent writes that
// change the same pages write them once. A lone write waits for no one (setImmediate).
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { Kysely } from 'kysely';
import { chainHash, type NewAuditEntry } from './audit-log.ts';
import { toConflictError } from './errors.ts';
import type { Schema } from './schema.ts';
import type {
  Rotation,
  RotationResult,
  SessionStart,
  SessionStartResult,
  SessionWrites,
} from './session-write-types.ts';

export interface SqliteHandle {
  db: DatabaseSync;
  /** Told the duration of each group transaction (the metrics' query histogram), in ms. */
  onQuery?: ((ms: number) => void) | undefined;
}

const MAX_UNITS = 64;

type Run = (sql: string, ...params: SQLInputValue[]) => number;
type Get = (sql: string, ...params: SQLInputValue[]) => Record<string, unknown> | undefined;
interface Raw {
  /** Runs a statement; returns the rows it changed. */
  run: Run;
  /** The first row of a query. */
  get: Get;
}

interface Unit {
  work: (raw: Raw) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Refuses a write: its savepoint rolls back, and the caller gets the result. */
class Refused extends Error {
  readonly result: string;
  constructor(result: string) {
    super(result);
    this.result = result;
  }
}

const writers = new WeakMap<DatabaseSync, SessionWrites>();

export function sqliteWrites(kysely: Kysely<Schema>, handle: SqliteHandle): SessionWrites {
  let found = writers.get(handle.db);
  if (!found) {
    found = createSqliteWrites(kysely, handle);
    writers.set(handle.db, found);
  }
  return found;
}

function createSqliteWrites(kysely: Kysely<Schema>, handle: SqliteHandle): SessionWrites {
  const statements = new Map<string, StatementSync>();
  const statement = (sql: string): StatementSync => {
    let found = statements.get(sql);
    if (!found) {
      found = handle.db.prepare(sql);
      statements.set(sql, found);
    }
    return found;
  };
  const raw: Raw = {
    run: (sql, ...params) => Number(statement(sql).run(...params).changes),
    get: (sql, ...params) => statement(sql).get(...params) as Record<string, unknown> | undefined,
  };

  let pending: Unit[] | undefined;

  /** One unit in a transaction of its own: how a group that failed is replayed. */
  function commitAlone(unit: Unit): void {
    raw.run('begin immediate');
    let value: unknown;
    try {
      value = unit.work(raw);
      raw.run('commit');
    } catch (error) {
      if (handle.db.isTransaction) raw.run('rollback');
      unit.reject(error);
      return;
    }
    unit.resolve(value);
  }

  function commitGroup(units: Unit[]): void {
    const started = performance.now();
    // No savepoints: a savepoint copies every page a write first touches into its journal, which
    // costs more than the writes. A unit is refused (Refused) only before its first change, so a
    // refusal needs no rollback; any other failure rolls the group back and each unit is replayed
    // alone, so the one that fails fails by itself, as it would have in its own transaction.
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    let failed = false;
    raw.run('begin immediate');
    try {
      for (const unit of units) {
        try {
          outcomes.push({ ok: true, value: unit.work(raw) });
        } catch (error) {
          if (!(error instanceof Refused)) {
            failed = true;
            break;
          }
          outcomes.push({ ok: false, error });
        }
      }
      if (failed) raw.run('rollback');
      else raw.run('commit');
    } catch (error) {
      // The COMMIT itself failed: nothing of the group is kept.
      if (handle.db.isTransaction) raw.run('rollback');
      for (const unit of units) unit.reject(error);
      return;
    } finally {
      handle.onQuery?.(performance.now() - started);
    }
    if (failed) {
      for (const unit of units) commitAlone(unit);
      return;
    }
    outcomes.forEach((outcome, i) => {
      const unit = units[i] as Unit;
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
  }

  async function run(units: Unit[]): Promise<void> {
    try {
      // Kysely's connection, held for the synchronous block: no other query runs in between.
      await kysely.connection().execute(async () => commitGroup(units));
    } catch (error) {
      for (const unit of units) unit.reject(error);
    }
  }

  function enqueue<T>(work: (raw: Raw) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!pending || pending.length >= MAX_UNITS) {
        const batch: Unit[] = [];
        pending = batch;
        setImmediate(() => {
          if (pending === batch) pending = undefined;
          void run(batch);
        });
      }
      pending.push({ work, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  async function settled<T extends string>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      if (error instanceof Refused) return error.result as T;
      throw toConflictError(error) ?? error;
    }
  }

  return {
    start: (start) => settled(enqueue((q) => startIn(q, start))),
    rotate: (rotation) => settled(enqueue((q) => rotateIn(q, rotation))),
  };
}

function startIn(q: Raw, start: SessionStart): SessionStartResult {
  const { session: s, refreshToken: t, code } = start;
  // A read is enough to hold the user here: BEGIN IMMEDIATE took the database's write lock, so a
  // change of the user lands wholly before this check (refused) or after the commit (and then
  // sees, and ends, the session made here).
  const held = q.get(
    'select 1 as held from users where id = ? and security_version = ? and is_active = 1',
    s.userId,
    start.securityVersion,
  );
  if (!held) throw new Refused('user_changed');
  // Conditional: of two exchanges of one code at the same moment exactly one wins.
  if (
    code &&
    q.run(
      'update authorization_codes set used_at = ?, session_id = ? where code_hash = ? and used_at is null and expires_at > ?',
      code.now,
      s.id,
      code.hash,
      code.now,
    ) !== 1
  ) {
    throw new Refused('code_spent');
  }
  q.run(
    `insert into sessions (id, user_id, client_id, scope, created_at, last_used_at, expires_at,
      user_agent, ip, revoked_at, auth_time) values (?, ?, ?, ?, ?, ?, ?, ?, ?, null, ?)`,
    s.id,
    s.userId,
    s.clientId,
    s.scope,
    s.createdAt,
    s.lastUsedAt,
    s.expiresAt,
    s.userAgent,
    s.ip,
    s.authTime,
  );
  if (t) {
    q.run(
      `insert into refresh_tokens (token_hash, session_id, user_id, created_at, expires_at, used_at)
        values (?, ?, ?, ?, ?, null)`,
      t.hash,
      t.sessionId,
      t.userId,
      t.createdAt,
      t.expiresAt,
    );
  }
  appendAudit(q, start.audit);
  return 'started';
}

/** The audit chain's next entry (audit-log.ts appendIn; the write lock orders the appends). */
function appendAudit(q: Raw, entry: NewAuditEntry): void {
  const head = q.get('select seq, hash from audit_head where id = 1');
  if (!head) throw new Error('the audit_head row is missing');
  const seq = Number(head.seq) + 1;
  const prevHash = String(head.hash);
  const hash = chainHash(prevHash, { ...entry, seq });
  q.run(
    `insert into audit_log (seq, at, type, actor_id, subject_id, ip, user_agent, details, prev_hash,
      hash) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    seq,
    entry.at,
    entry.type,
    entry.actorId,
    entry.subjectId,
    entry.ip,
    entry.userAgent,
    entry.details,
    prevHash,
    hash,
  );
  q.run('update audit_head set seq = ?, hash = ? where id = 1', seq, hash);
}

function rotateIn(q: Raw, { hash, now, successor: t }: Rotation): RotationResult {
  // Judged by reads under the write lock, before any change (see commitGroup): of two concurrent
  // refreshes exactly one finds the token unspent, since their units run one after the other.
  const token = q.get('select used_at from refresh_tokens where token_hash = ?', hash);
  if (!token || token.used_at !== null) return 'spent';
  // A session ended since it was read stays ended, and its token unspent (as a rolled-back
  // rotation leaves it).
  if (!q.get('select 1 as live from sessions where id = ? and revoked_at is null', t.sessionId)) {
    throw new Refused('session_ended');
  }
  q.run('update refresh_tokens set used_at = ? where token_hash = ?', now, hash);
  q.run(
    'update sessions set last_used_at = ?, expires_at = ? where id = ?',
    now,
    t.expiresAt,
    t.sessionId,
  );
  q.run(
    `insert into refresh_tokens (token_hash, session_id, user_id, created_at, expires_at, used_at)
      values (?, ?, ?, ?, ?, null)`,
    t.hash,
    t.sessionId,
    t.userId,
    t.createdAt,
    t.expiresAt,
  );
  return 'rotated';
}
