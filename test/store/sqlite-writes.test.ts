// SQLite's grouped sign-in and rotation writes (store/sqlite-writes.ts): the writes of one turn
// share a transaction, each under its own savepoint; a refused or failing write rolls back alone,
// a failing commit fails them all, and the audit chain stays whole.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import {
  ConflictError,
  canonicalJson,
  chainHash,
  type SessionStart,
} from '../../src/store/index.ts';
import { GENESIS_HASH } from '../../src/store/migrations/2026_11_23_000002_audit.ts';
import { newUser, nextId, T0, withFreshStore } from './harness.ts';

function startOf(
  userId: string,
  securityVersion: number,
  sessionId = nextId('session'),
): SessionStart {
  return {
    session: {
      id: sessionId,
      userId,
      clientId: 'portcullis',
      scope: 'read',
      createdAt: T0,
      lastUsedAt: T0,
      expiresAt: T0 + 60_000,
      userAgent: null,
      ip: null,
      authTime: T0,
    },
    securityVersion,
    refreshToken: { hash: nextId('rt'), sessionId, userId, createdAt: T0, expiresAt: T0 + 60_000 },
    audit: {
      at: T0,
      type: 'login.success',
      actorId: userId,
      subjectId: userId,
      ip: null,
      userAgent: null,
      details: canonicalJson({ session_id: sessionId }),
    },
  };
}

test('grouped writes: refused and failing writes roll back alone, the rest commit, the chain stays whole', () =>
  withFreshStore('sqlite', async ({ store }) => {
    const users = await Promise.all(
      Array.from({ length: 12 }, () => store.users.create(newUser())),
    );
    const taken = nextId('session');
    const starts = users.map((user, i) =>
      // Every fourth is stale (a password changed since it was read); one reuses a session id.
      startOf(
        user.id,
        i % 4 === 3 ? user.securityVersion + 1 : user.securityVersion,
        i === 5 ? taken : undefined,
      ),
    );
    await store.sessionWrites.start(startOf(users[0]?.id as string, 0, taken));
    const results = await Promise.allSettled(starts.map((x) => store.sessionWrites.start(x)));
    results.forEach((result, i) => {
      if (i === 5) {
        assert.equal(result.status, 'rejected');
        assert.ok((result as PromiseRejectedResult).reason instanceof ConflictError);
      } else {
        assert.deepEqual(result, {
          status: 'fulfilled',
          value: i % 4 === 3 ? 'user_changed' : 'started',
        });
      }
    });
    for (const [i, start] of starts.entries()) {
      const row = await store.refreshTokens.findByHash(start.refreshToken?.hash as string);
      assert.equal(row !== undefined, i !== 5 && i % 4 !== 3, `write ${i}`);
    }
    const entries = await store.audit.scan(0, 100);
    assert.equal(entries.length, 1 + 8);
    let prev = GENESIS_HASH;
    for (const entry of entries) {
      assert.equal(entry.prevHash, prev);
      assert.equal(entry.hash, chainHash(prev, entry));
      prev = entry.hash;
    }
    assert.deepEqual(await store.audit.head(), { seq: 9, hash: prev });
  }));

test('grouped writes: the writes of one turn share a commit: a failing commit fails them all', () =>
  withFreshStore('sqlite', async ({ db, store }) => {
    const users = await Promise.all(Array.from({ length: 3 }, () => store.users.create(newUser())));
    // A deferred foreign key is checked at COMMIT: one bad session (its client unknown) fails it.
    await sql`create table session_clients (client_id text references clients(client_id) deferrable initially deferred)`.execute(
      db.kysely,
    );
    await sql`create trigger session_client after insert on sessions begin
      insert into session_clients values (case when new.id like '%-bad' then 'nobody' else null end);
    end`.execute(db.kysely);
    const starts = users.map((user, i) =>
      startOf(user.id, user.securityVersion, i === 1 ? `${nextId('session')}-bad` : undefined),
    );
    const results = await Promise.allSettled(starts.map((x) => store.sessionWrites.start(x)));
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    );
    for (const start of starts)
      assert.equal(await store.sessions.findById(start.session.id), undefined);
    assert.deepEqual(await store.audit.head(), { seq: 0, hash: GENESIS_HASH });
    // The next turn's writes commit (the failed group left no transaction open).
    await sql`drop trigger session_client`.execute(db.kysely);
    assert.equal(await store.sessionWrites.start(startOf(users[0]?.id as string, 0)), 'started');
  }));
