// Conformance cases for the users repository.
import assert from 'node:assert/strict';
import { ConflictError, type User } from '../../src/store/index.ts';
import { createUserWithSession, FAR_FUTURE, newUser, type StoreCase, T0 } from './harness.ts';

async function assertConflict(
  promise: Promise<unknown>,
  field: ConflictError['field'],
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ConflictError, `expected ConflictError, got ${String(error)}`);
    assert.equal(error.field, field);
    return true;
  });
}

export const userCases: StoreCase[] = [
  {
    name: 'users: create and every finder round-trip every field',
    async run({ store }) {
      const input = newUser({
        email: 'Zoë.Ünïcødé@例え.テスト',
        emailNorm: 'zoë.ünïcødé@例え.テスト',
        username: 'Zoë🙂',
        usernameNorm: 'zoë🙂',
        isActive: true,
        isSuperuser: true,
        isVerified: true,
        scopes: ['read', 'write', 'admin', 'x:y/z'],
        createdAt: FAR_FUTURE,
      });
      const expected: User = {
        id: input.id,
        email: input.email,
        username: input.username,
        passwordHash: input.passwordHash,
        isActive: true,
        isSuperuser: true,
        isVerified: true,
        scopes: ['read', 'write', 'admin', 'x:y/z'],
        createdAt: FAR_FUTURE,
        updatedAt: FAR_FUTURE,
        securityVersion: 0,
        hasPassword: true,
      };
      assert.deepEqual(await store.users.create(input), expected);
      assert.deepEqual(await store.users.findById(input.id), expected);
      assert.deepEqual(await store.users.findByEmailNorm('zoë.ünïcødé@例え.テスト'), expected);
      assert.deepEqual(await store.users.findByUsernameNorm('zoë🙂'), expected);
      assert.equal(await store.users.findById('missing'), undefined);
      assert.equal(await store.users.findByEmailNorm(input.email), undefined, 'exact norm only');
      assert.equal(await store.users.findByUsernameNorm('missing'), undefined);
    },
  },
  {
    name: 'users: false booleans, no scopes and a zero timestamp round-trip',
    async run({ store }) {
      const input = newUser({
        isActive: false,
        isSuperuser: false,
        isVerified: false,
        scopes: [],
        createdAt: 0,
      });
      const created = await store.users.create(input);
      assert.equal(created.isActive, false);
      assert.equal(created.isSuperuser, false);
      assert.equal(created.isVerified, false);
      assert.deepEqual(created.scopes, []);
      assert.equal(created.createdAt, 0);
      assert.deepEqual(await store.users.findById(input.id), created);
    },
  },
  {
    name: 'users: a scope containing a space is refused, not silently split',
    async run({ store }) {
      await assert.rejects(store.users.create(newUser({ scopes: ['read write'] })), TypeError);
      await assert.rejects(store.users.create(newUser({ scopes: [''] })), TypeError);
      assert.equal(await store.users.count(), 0);
    },
  },
  {
    name: 'users: create conflicts name the field and insert nothing',
    async run({ store }) {
      const first = await store.users.create(newUser({ email: 'a@x.io', username: 'alice' }));
      await assertConflict(
        store.users.create(newUser({ email: 'A@x.io', emailNorm: 'a@x.io' })),
        'email',
      );
      await assertConflict(
        store.users.create(newUser({ username: 'ALICE', usernameNorm: 'alice' })),
        'username',
      );
      await assertConflict(store.users.create(newUser({ id: first.id })), 'id');
      assert.equal(await store.users.count(), 1);
    },
  },
  {
    name: 'users: update patches fields, sets updatedAt and keeps the rest',
    async run({ store }) {
      const user = await store.users.create(newUser({ username: 'bob', email: 'bob@x.io' }));
      const updated = await store.users.update(
        user.id,
        {
          email: 'Bob@Y.io',
          emailNorm: 'bob@y.io',
          username: 'Bobby',
          usernameNorm: 'bobby',
          passwordHash: 'new-hash',
          isActive: false,
          isSuperuser: true,
          isVerified: true,
          scopes: ['read'],
        },
        FAR_FUTURE,
      );
      const expected: User = {
        ...user,
        email: 'Bob@Y.io',
        username: 'Bobby',
        passwordHash: 'new-hash',
        isActive: false,
        isSuperuser: true,
        isVerified: true,
        scopes: ['read'],
        updatedAt: FAR_FUTURE,
      };
      assert.deepEqual(updated, expected);
      assert.deepEqual(await store.users.findById(user.id), expected);
      assert.deepEqual(await store.users.findByEmailNorm('bob@y.io'), expected);
      assert.equal(await store.users.findByUsernameNorm('bob'), undefined);

      const touched = await store.users.update(user.id, {}, T0 + 5);
      assert.deepEqual(touched, { ...expected, updatedAt: T0 + 5 });
      assert.deepEqual(await store.users.update(user.id, { scopes: [] }, T0 + 6), {
        ...expected,
        scopes: [],
        updatedAt: T0 + 6,
      });
      assert.equal(await store.users.update('missing', { isActive: true }, T0), undefined);
    },
  },
  {
    name: 'users: the security version is bumped on request and guards conditional updates',
    async run({ store }) {
      const user = await store.users.create(newUser({ username: 'erin', email: 'erin@x.io' }));
      assert.equal(user.securityVersion, 0);
      assert.equal(await store.users.holdSecurityVersion(user.id, 0), true);
      const bumped = await store.users.update(
        user.id,
        { passwordHash: 'h2', bumpSecurityVersion: true },
        T0 + 1,
      );
      assert.equal(bumped?.securityVersion, 1);
      assert.equal(await store.users.holdSecurityVersion(user.id, 0), false, 'an older version');
      assert.equal(await store.users.holdSecurityVersion(user.id, 1), true);
      // A compare-and-set that no longer holds changes nothing.
      assert.equal(
        await store.users.update(user.id, { passwordHash: 'h3' }, T0 + 2, {
          passwordHash: user.passwordHash,
        }),
        undefined,
      );
      assert.equal(
        await store.users.update(user.id, { isVerified: true }, T0 + 2, { email: 'other@x.io' }),
        undefined,
      );
      assert.equal(
        await store.users.update(user.id, { isVerified: true }, T0 + 2, { securityVersion: 0 }),
        undefined,
      );
      assert.deepEqual(await store.users.findById(user.id), bumped);
      const matched = await store.users.update(user.id, { passwordHash: 'h3' }, T0 + 3, {
        passwordHash: 'h2',
        email: 'erin@x.io',
        securityVersion: 1,
      });
      assert.equal(matched?.passwordHash, 'h3');
      assert.equal(matched?.securityVersion, 1, 'bumped only on request');
      // An inactive user holds no version: no session may be made for it.
      await store.users.update(user.id, { isActive: false, bumpSecurityVersion: true }, T0 + 4);
      assert.equal(await store.users.holdSecurityVersion(user.id, 2), false);
      assert.equal(await store.users.holdSecurityVersion('missing', 0), false);
    },
  },
  {
    name: 'users: update with `expected` applies only while the row still holds those values',
    async run({ store }) {
      const user = await store.users.create(newUser({ username: 'erin', email: 'erin@x.io' }));
      const stale = { email: 'erin@old.io' };
      assert.equal(
        await store.users.update(user.id, { isVerified: true }, T0 + 1, stale),
        undefined,
      );
      assert.equal(
        await store.users.update(user.id, { isVerified: true }, T0 + 1, { passwordHash: 'other' }),
        undefined,
      );
      assert.deepEqual(await store.users.findById(user.id), user);
      const applied = await store.users.update(user.id, { isVerified: true }, T0 + 2, {
        email: 'erin@x.io',
        passwordHash: user.passwordHash,
      });
      assert.deepEqual(applied, { ...user, isVerified: true, updatedAt: T0 + 2 });
      // Compared as stored: another case is another value.
      assert.equal(
        await store.users.update(user.id, { isVerified: false }, T0 + 3, { email: 'Erin@x.io' }),
        undefined,
      );
      assert.equal(
        await store.users.update(user.id, {}, T0 + 3, { email: 'erin@x.io\u0000' }),
        undefined,
      );
    },
  },
  {
    name: 'users: update conflicts name the field and change nothing',
    async run({ store }) {
      await store.users.create(newUser({ username: 'carol', email: 'carol@x.io' }));
      const dave = await store.users.create(newUser({ username: 'dave', email: 'dave@x.io' }));
      await assertConflict(
        store.users.update(dave.id, { emailNorm: 'carol@x.io' }, T0 + 1),
        'email',
      );
      await assertConflict(
        store.users.update(dave.id, { username: 'Carol', usernameNorm: 'carol' }, T0 + 1),
        'username',
      );
      assert.deepEqual(await store.users.findById(dave.id), dave);
    },
  },
  {
    name: 'users: delete cascades to sessions and refresh tokens',
    async run({ store }) {
      const { userId, sessionId } = await createUserWithSession(store);
      const other = await createUserWithSession(store);
      for (const [hash, sid, uid] of [
        ['h1', sessionId, userId],
        ['h2', other.sessionId, other.userId],
      ] as const) {
        await store.refreshTokens.insert({
          hash,
          sessionId: sid,
          userId: uid,
          createdAt: T0,
          expiresAt: FAR_FUTURE,
        });
      }
      assert.equal(await store.users.delete(userId), true);
      assert.equal(await store.users.findById(userId), undefined);
      assert.equal(await store.sessions.findById(sessionId), undefined);
      assert.equal(await store.refreshTokens.findByHash('h1'), undefined);
      assert.equal(await store.users.delete(userId), false);
      assert.ok(await store.sessions.findById(other.sessionId), 'other users keep their sessions');
      assert.ok(await store.refreshTokens.findByHash('h2'));
    },
  },
  {
    name: 'users: list pages by id ascending with limit and after',
    async run({ store }) {
      for (const id of ['u3', 'u1', 'u5', 'u2', 'u4']) await store.users.create(newUser({ id }));
      const ids = async (opts: { limit: number; after?: string }): Promise<string[]> =>
        (await store.users.list(opts)).map((u) => u.id);
      assert.deepEqual(await ids({ limit: 2 }), ['u1', 'u2']);
      assert.deepEqual(await ids({ limit: 2, after: 'u2' }), ['u3', 'u4']);
      assert.deepEqual(await ids({ limit: 2, after: 'u4' }), ['u5']);
      assert.deepEqual(await ids({ limit: 2, after: 'u5' }), []);
      assert.deepEqual(await ids({ limit: 10, after: 'u0' }), ['u1', 'u2', 'u3', 'u4', 'u5']);
      const [first] = await store.users.list({ limit: 1 });
      assert.deepEqual(first, await store.users.findById('u1'), 'list returns whole users');
    },
  },
  {
    name: 'users: list q is a case-insensitive substring of username or email, wildcards literal',
    async run({ store }) {
      const add = (id: string, username: string, email: string): Promise<User> =>
        store.users.create(newUser({ id, username, email }));
      await add('a', 'alice', 'alice@wonder.land');
      await add('b', 'bob', 'bob@builder.io');
      await add('c', 'a_b', 'under@score.io');
      await add('d', 'axb', 'x@plain.io');
      await add('e', 'pct', '100%sure@odd.io');
      await add('f', 'back', 'back\\slash@odd.io');
      await add('g', 'zoë', 'zoe@umlaut.io');
      const ids = async (q: string, after?: string): Promise<string[]> =>
        (await store.users.list({ limit: 100, q, ...(after === undefined ? {} : { after }) })).map(
          (u) => u.id,
        );
      assert.deepEqual(await ids('ALI'), ['a']);
      assert.deepEqual(await ids('Builder'), ['b'], 'matches the email');
      assert.deepEqual(await ids('_'), ['c'], '_ is not a wildcard');
      assert.deepEqual(await ids('a_b'), ['c']);
      assert.deepEqual(await ids('%'), ['e'], '% is not a wildcard');
      assert.deepEqual(await ids('0%s'), ['e']);
      assert.deepEqual(await ids('\\'), ['f'], 'a backslash is literal too');
      assert.deepEqual(await ids('ZOË'), ['g'], 'non-ASCII query folds to the stored norm');
      assert.deepEqual(await ids('ODD.io'), ['e', 'f']);
      assert.deepEqual(await ids('ODD.io', 'e'), ['f'], 'q combines with after');
      assert.deepEqual(await ids('nobody'), []);
      assert.equal(
        (await store.users.list({ limit: 100, q: '' })).length,
        7,
        'empty q filters nothing',
      );
    },
  },
  {
    name: 'users: count',
    async run({ store }) {
      assert.equal(await store.users.count(), 0);
      await store.users.create(newUser());
      await store.users.create(newUser());
      assert.equal(await store.users.count(), 2);
    },
  },
];
