// SQLite's group commit (store/group-commit.ts): the writes of one turn share a transaction, each
// under its own savepoint; a unit that throws takes only its own writes back, and every caller is
// answered after the commit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { groupCommit } from '../../src/store/group-commit.ts';
import { newUser, withFreshStore } from './harness.ts';

test('group commit: a failing unit rolls back alone, the others commit', () =>
  withFreshStore('sqlite', async ({ db, store }) => {
    const commit = groupCommit(db.kysely);
    const users = Array.from({ length: 12 }, () => newUser());
    // How many users each unit sees inside its transaction: one batch sees the units before it.
    const seen: number[] = [];
    const results = await Promise.allSettled(
      users.map((user, i) =>
        commit(async (trx) => {
          const created = await trx
            .insertInto('users')
            .values({
              id: user.id,
              email: user.email,
              email_norm: user.emailNorm,
              username: user.username,
              username_norm: user.usernameNorm,
              password_hash: user.passwordHash,
              is_active: 1,
              is_superuser: 0,
              is_verified: 0,
              scopes: '',
              created_at: 1,
              updated_at: 1,
              security_version: 0,
              has_password: 1,
            })
            .returning('id')
            .executeTakeFirstOrThrow();
          const inTx = await sql<{ n: number }>`select count(*) as n from users`.execute(trx);
          seen.push(Number(inTx.rows[0]?.n));
          if (i % 4 === 3) throw new Error(`unit ${i} refuses`);
          return created.id;
        }),
      ),
    );
    results.forEach((result, i) => {
      if (i % 4 === 3) {
        assert.equal(result.status, 'rejected');
        assert.match(String((result as PromiseRejectedResult).reason), new RegExp(`unit ${i}`));
      } else {
        assert.deepEqual(result, { status: 'fulfilled', value: users[i]?.id });
      }
    });
    // Each unit saw the rows of the units before it, minus the rolled-back ones.
    assert.deepEqual(seen, [1, 2, 3, 4, 4, 5, 6, 7, 7, 8, 9, 10]);
    const stored = await store.users.list({ limit: 100 });
    assert.deepEqual(
      stored.map((u) => u.id).sort(),
      users
        .filter((_, i) => i % 4 !== 3)
        .map((u) => u.id)
        .sort(),
    );
    // A unit on its own still commits (no waiting for company).
    const lone = newUser();
    await commit((trx) =>
      trx
        .updateTable('users')
        .set({ username: lone.username })
        .where('id', '=', users[0]?.id as string)
        .execute(),
    );
    assert.equal((await store.users.findById(users[0]?.id as string))?.username, lone.username);
  }));

test('group commit: the units of one turn share a transaction: a failing commit rejects them all', () =>
  withFreshStore('sqlite', async ({ db, store }) => {
    const commit = groupCommit(db.kysely);
    const users = Array.from({ length: 3 }, () => newUser());
    // A deferred foreign key fails at COMMIT, after every unit succeeded.
    await sql`create table pending_check (user_id text references users(id) deferrable initially deferred)`.execute(
      db.kysely,
    );
    const results = await Promise.allSettled(
      users.map((user, i) =>
        commit(async (trx) => {
          await sql`insert into users (id, email, email_norm, username, username_norm, password_hash,
            is_active, is_superuser, is_verified, scopes, created_at, updated_at, security_version,
            has_password) values (${user.id}, ${user.email}, ${user.emailNorm}, ${user.username},
            ${user.usernameNorm}, 'x', 1, 0, 0, '', 1, 1, 0, 1)`.execute(trx);
          await sql`insert into pending_check values (${i === 1 ? 'nobody' : user.id})`.execute(
            trx,
          );
          return i;
        }),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    );
    const left = await sql<{ n: number }>`select count(*) as n from pending_check`.execute(
      db.kysely,
    );
    assert.equal(Number(left.rows[0]?.n), 0);
    assert.deepEqual(await store.users.list({ limit: 10 }), []);
  }));
