// Conformance cases for the hot-path read machinery: batched reads by id (store/batch.ts) and
// queries compiled once (store/prepared.ts), on every database.
import assert from 'node:assert/strict';
import { prepare } from '../../src/store/prepared.ts';
import { createUserWithSession, newUser, type StoreCase } from './harness.ts';

export const hotPathCases: StoreCase[] = [
  {
    name: 'users.findById: 150 concurrent reads (one turn, more than one batch) each get their own row',
    async run({ store }) {
      const users = await Promise.all(
        Array.from({ length: 30 }, () => store.users.create(newUser())),
      );
      const ids = Array.from({ length: 150 }, (_, i) =>
        i % 7 === 6 ? `missing-${i}` : (users[i % users.length]?.id as string),
      );
      const found = await Promise.all(ids.map((id) => store.users.findById(id)));
      found.forEach((user, i) => {
        if (ids[i]?.startsWith('missing-')) assert.equal(user, undefined);
        else assert.equal(user?.id, ids[i]);
      });
      // Callers never share an object: changing one answer changes no other.
      const [a, b] = await Promise.all([
        store.users.findById(users[0]?.id as string),
        store.users.findById(users[0]?.id as string),
      ]);
      assert.notEqual(a, b);
      a?.scopes.push('mutated');
      assert.deepEqual(b?.scopes, ['read', 'write']);
    },
  },
  {
    name: 'users.findById: a read after a committed change sees it (no caching between turns)',
    async run({ store }) {
      const user = await store.users.create(newUser());
      await store.users.update(user.id, { isActive: false }, user.createdAt + 1);
      assert.equal((await store.users.findById(user.id))?.isActive, false);
      await store.users.update(user.id, { isActive: true }, user.createdAt + 2);
      assert.equal((await store.users.findById(user.id))?.isActive, true);
    },
  },
  {
    name: 'users.findById inside a transaction reads on its connection (no wait on the batch)',
    async run({ store }) {
      const { userId, sessionId } = await createUserWithSession(store);
      const seen = await store.transaction(async (tx) => {
        await tx.sessions.touch(sessionId, 5, 6);
        return tx.users.findById(userId);
      });
      assert.equal(seen?.id, userId);
      assert.equal((await store.sessions.findById(sessionId))?.lastUsedAt, 5);
    },
  },
  {
    name: 'prepare: arguments land in their places, constants stay; an unused argument is refused',
    async run({ db, store }) {
      const user = await store.users.create(newUser());
      const byEmailAndId = prepare(['email', 'id'], (k, p) =>
        k
          .selectFrom('users')
          .select(['id', 'email'])
          .where('id', '=', p.id)
          .where('is_active', '=', 1)
          .where('email', '=', p.email),
      );
      const hit = await byEmailAndId(db.kysely, { id: user.id, email: user.email });
      assert.deepEqual(hit.rows, [{ id: user.id, email: user.email }]);
      const miss = await byEmailAndId(db.kysely, { id: user.email, email: user.id });
      assert.deepEqual(miss.rows, []);
      const unused = prepare(['id', 'extra'], (k, p) =>
        k.selectFrom('users').select('id').where('id', '=', p.id),
      );
      await assert.rejects(unused(db.kysely, { id: user.id, extra: 1 }), /extra is not used/);
    },
  },
];
