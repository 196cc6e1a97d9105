// The writes of the busiest paths, which span tables: starting a session (a sign-in, a code
// exchange) and rotating a refresh token. On SQLite they are grouped into shared commits and run
// on node:sqlite directly (sqlite-writes.ts); inside a caller's transaction they are the
// single-table statements through Kysely. On PostgreSQL each statement is a round trip through
// `pg` on the main thread, so each write is one statement: data-modifying CTEs, committed on their
// own (or inside the caller's transaction).
import { type Kysely, PostgresAdapter, sql } from 'kysely';
import { chainTail, createAuditRepository } from './audit-log.ts';
import { createAuthorizationCodeRepository } from './authorization-codes.ts';
import { mapConflict } from './errors.ts';
import { prepare } from './prepared.ts';
import { createRefreshTokenRepository } from './refresh-tokens.ts';
import type { Schema } from './schema.ts';
import type {
  Rotation,
  RotationResult,
  SessionStart,
  SessionStartResult,
  SessionWrites,
} from './session-write-types.ts';
import { createSessionRepository } from './sessions.ts';
import { type SqliteHandle, sqliteWrites } from './sqlite-writes.ts';

export type * from './session-write-types.ts';

import { createUserRepository } from './users.ts';

/** `sqlite`: the root store's SQLite file (its writes are grouped, sqlite-writes.ts). */
export function createSessionWrites(db: Kysely<Schema>, sqlite?: SqliteHandle): SessionWrites {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return postgresWrites(db);
  if (sqlite && !db.isTransaction) return sqliteWrites(db, sqlite);
  return statementWrites(db);
}

/** The single-table statements, in the order the locks go, in the caller's transaction. */
function statementWrites(db: Kysely<Schema>): SessionWrites {
  const inTransaction = <T>(fn: (trx: Kysely<Schema>) => Promise<T>): Promise<T> =>
    db.isTransaction ? fn(db) : db.transaction().execute(fn);
  class Refused extends Error {
    readonly result: SessionStartResult | RotationResult;
    constructor(result: SessionStartResult | RotationResult) {
      super(result);
      this.result = result;
    }
  }
  const refuse = (result: SessionStartResult | RotationResult): never => {
    throw new Refused(result);
  };
  async function settled<T extends string>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      // Thrown to roll the transaction back; answered as a result.
      if (error instanceof Refused) return error.result as T;
      throw error;
    }
  }

  return {
    start: (start) =>
      settled(
        inTransaction(async (trx) => {
          const { session } = start;
          // The user's row first: a change of the user orders against this sign-in.
          if (
            !(await createUserRepository(trx).holdSecurityVersion(
              session.userId,
              start.securityVersion,
            ))
          )
            refuse('user_changed');
          if (
            start.code &&
            !(await createAuthorizationCodeRepository(trx).consume(
              start.code.hash,
              start.code.now,
              session.id,
            ))
          )
            refuse('code_spent');
          await createSessionRepository(trx).create(session);
          if (start.refreshToken)
            await createRefreshTokenRepository(trx).insert(start.refreshToken);
          await createAuditRepository(trx).append(start.audit);
          return 'started' as const;
        }),
      ),

    rotate: (rotation) =>
      settled(
        inTransaction(async (trx) => {
          const tokens = createRefreshTokenRepository(trx);
          // The conditional update is the lock: of two concurrent refreshes exactly one wins.
          if (!(await tokens.markUsed(rotation.hash, rotation.now))) return 'spent' as const;
          await tokens.insert(rotation.successor);
          const { successor } = rotation;
          // Conditional: a session ended since it was read stays ended; the rotation rolls back.
          if (
            !(await createSessionRepository(trx).touch(
              successor.sessionId,
              rotation.now,
              successor.expiresAt,
            ))
          )
            refuse('session_ended');
          return 'rotated' as const;
        }),
      ),
  };
}

// The same writes as one statement each. Every CTE below runs only if the one before it changed a
// row (each reads the previous one's RETURNING), so a refused step leaves nothing written.
const startStatement = prepare(
  [
    'userId',
    'securityVersion',
    'codeHash',
    'now',
    'sessionId',
    'clientId',
    'scope',
    'createdAt',
    'lastUsedAt',
    'expiresAt',
    'userAgent',
    'ip',
    'authTime',
    'tokenHash',
    'tokenCreatedAt',
    'tokenExpiresAt',
    'at',
    'type',
    'actorId',
    'subjectId',
    'auditIp',
    'auditUserAgent',
    'details',
    'chainTail',
  ],
  (db, p) => ({
    compile: () =>
      sql<{ held: number; spent: number }>`
with held as (
  -- A write that changes nothing: it takes the row lock a change of the user also needs.
  update users set security_version = security_version
  where id = ${p.userId} and security_version = ${p.securityVersion} and is_active = 1
  returning id
), spent as (
  -- Conditional: of two exchanges of one code at the same moment exactly one wins.
  update authorization_codes set used_at = ${p.now}, session_id = ${p.sessionId}
  where code_hash = ${p.codeHash} and used_at is null and expires_at > ${p.now}
    and exists (select 1 from held)
  returning code_hash
), allowed as (
  select 1 from held where ${p.codeHash}::text is null or exists (select 1 from spent)
), made as (
  insert into sessions
    (id, user_id, client_id, scope, created_at, last_used_at, expires_at, user_agent, ip,
     revoked_at, auth_time)
  select ${p.sessionId}, ${p.userId}, ${p.clientId}, ${p.scope}, ${p.createdAt}, ${p.lastUsedAt},
    ${p.expiresAt}, ${p.userAgent}, ${p.ip}, null, ${p.authTime}
  from allowed
  returning id
), token as (
  insert into refresh_tokens (token_hash, session_id, user_id, created_at, expires_at, used_at)
  select ${p.tokenHash}, id, ${p.userId}, ${p.tokenCreatedAt}, ${p.tokenExpiresAt}, null
  from made where ${p.tokenHash}::text is not null
), head as (
  -- The chain head last, locked (FOR UPDATE reads its newest version once the lock is ours).
  select seq + 1 as seq, hash as prev from audit_head
  where id = 1 and exists (select 1 from made)
  for update
), entry as (
  -- chainHash of audit-log.ts, with the seq taken here: sha256(prev "\\n[" seq "," tail).
  select seq, prev,
    encode(sha256(convert_to(prev || E'\\n[' || seq::text || ',' || ${p.chainTail}, 'UTF8')), 'hex')
      as hash
  from head
), logged as (
  insert into audit_log
    (seq, at, type, actor_id, subject_id, ip, user_agent, details, prev_hash, hash)
  select seq, ${p.at}, ${p.type}, ${p.actorId}, ${p.subjectId}, ${p.auditIp}, ${p.auditUserAgent},
    ${p.details}, prev, hash
  from entry
), moved as (
  update audit_head set seq = entry.seq, hash = entry.hash from entry where audit_head.id = 1
)
select (select count(*) from held)::int as held, (select count(*) from spent)::int as spent`.compile(
        db,
      ),
  }),
);

const rotateStatement = prepare(
  ['hash', 'now', 'successorHash', 'sessionId', 'userId', 'createdAt', 'expiresAt'],
  (db, p) => ({
    compile: () =>
      sql<{ used: number; touched: number }>`
with used as (
  -- The conditional update is the lock: of two concurrent refreshes exactly one wins.
  update refresh_tokens set used_at = ${p.now}
  where token_hash = ${p.hash} and used_at is null
  returning session_id
), touched as (
  -- Conditional: a session ended since it was read stays ended and gets no successor.
  update sessions set last_used_at = ${p.now}, expires_at = ${p.expiresAt}
  where id = ${p.sessionId} and revoked_at is null and exists (select 1 from used)
  returning id
), successor as (
  insert into refresh_tokens (token_hash, session_id, user_id, created_at, expires_at, used_at)
  select ${p.successorHash}, id, ${p.userId}, ${p.createdAt}, ${p.expiresAt}, null from touched
)
select (select count(*) from used)::int as used, (select count(*) from touched)::int as touched`.compile(
        db,
      ),
  }),
);

function postgresWrites(db: Kysely<Schema>): SessionWrites {
  return {
    async start(start: SessionStart): Promise<SessionStartResult> {
      const { session, refreshToken, audit } = start;
      const result = await mapConflict(() =>
        startStatement(db, {
          userId: session.userId,
          securityVersion: start.securityVersion,
          codeHash: start.code?.hash ?? null,
          now: start.code?.now ?? session.createdAt,
          sessionId: session.id,
          clientId: session.clientId,
          scope: session.scope,
          createdAt: session.createdAt,
          lastUsedAt: session.lastUsedAt,
          expiresAt: session.expiresAt,
          userAgent: session.userAgent,
          ip: session.ip,
          authTime: session.authTime,
          tokenHash: refreshToken?.hash ?? null,
          tokenCreatedAt: refreshToken?.createdAt ?? session.createdAt,
          tokenExpiresAt: refreshToken?.expiresAt ?? session.expiresAt,
          at: audit.at,
          type: audit.type,
          actorId: audit.actorId,
          subjectId: audit.subjectId,
          auditIp: audit.ip,
          auditUserAgent: audit.userAgent,
          details: audit.details,
          chainTail: chainTail(audit),
        }),
      );
      const row = result.rows[0];
      if (row?.held !== 1) return 'user_changed';
      if (start.code && row.spent !== 1) return 'code_spent';
      return 'started';
    },

    async rotate({ hash, now, successor }: Rotation): Promise<RotationResult> {
      const result = await mapConflict(() =>
        rotateStatement(db, {
          hash,
          now,
          successorHash: successor.hash,
          sessionId: successor.sessionId,
          userId: successor.userId,
          createdAt: successor.createdAt,
          expiresAt: successor.expiresAt,
        }),
      );
      const row = result.rows[0];
      if (row?.used !== 1) return 'spent';
      return row.touched === 1 ? 'rotated' : 'session_ended';
    },
  };
}
