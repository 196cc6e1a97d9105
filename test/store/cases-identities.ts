// Conformance cases for the identities repository (SPEC §9) and accounts without a password.
import assert from 'node:assert/strict';
import { ConflictError } from '../../src/store/index.ts';
import { newUser, type StoreCase, T0 } from './harness.ts';

export const identityCases: StoreCase[] = [
  {
    name: 'identities: link, find, list, touch and unlink round-trip',
    async run({ store }) {
      const user = await store.users.create(newUser());
      const linked = await store.identities.link({
        provider: 'corp',
        subject: 'sub-1',
        userId: user.id,
        email: 'a@corp.example',
        linkedAt: T0,
      });
      assert.deepEqual(await store.identities.find('corp', 'sub-1'), linked);
      assert.equal(await store.identities.find('corp', 'sub-2'), undefined);
      assert.equal(await store.identities.find('other', 'sub-1'), undefined);
      assert.equal(await store.identities.find('corp\0', 'sub-1'), undefined);
      await store.identities.link({
        provider: 'github',
        subject: '42',
        userId: user.id,
        email: null,
        linkedAt: T0 + 1,
      });
      await store.identities.touch('corp', 'sub-1', 'b@corp.example', T0 + 5);
      const list = await store.identities.listForUser(user.id);
      assert.deepEqual(
        list.map((i) => [i.provider, i.subject, i.email, i.lastUsedAt]),
        [
          ['corp', 'sub-1', 'b@corp.example', T0 + 5],
          ['github', '42', null, T0 + 1],
        ],
      );
      assert.equal(await store.identities.unlink(user.id, 'corp'), 1);
      assert.equal(await store.identities.unlink(user.id, 'corp'), 0);
      assert.deepEqual(
        (await store.identities.listForUser(user.id)).map((i) => i.provider),
        ['github'],
      );
    },
  },
  {
    name: 'identities: one account per (provider, subject); deleting the user deletes its links',
    async run({ store }) {
      const a = await store.users.create(newUser());
      const b = await store.users.create(newUser());
      const identity = { provider: 'corp', subject: 's', email: null, linkedAt: T0 };
      await store.identities.link({ ...identity, userId: a.id });
      await assert.rejects(
        store.identities.link({ ...identity, userId: b.id }),
        (error: unknown) => error instanceof ConflictError,
      );
      // The same subject at another provider is another identity.
      await store.identities.link({ ...identity, provider: 'other', userId: b.id });
      assert.equal(await store.identities.unlink(b.id, 'corp'), 0, 'not b’s to unlink');
      assert.ok(await store.users.delete(a.id));
      assert.equal(await store.identities.find('corp', 's'), undefined);
      assert.equal((await store.identities.find('other', 's'))?.userId, b.id);
    },
  },
  {
    name: 'users: an account without a password round-trips, and gets one later',
    async run({ store }) {
      const user = await store.users.create(newUser({ passwordHash: '', hasPassword: false }));
      assert.equal(user.hasPassword, false);
      assert.equal((await store.users.findById(user.id))?.hasPassword, false);
      const updated = await store.users.update(
        user.id,
        { passwordHash: '$argon2id$x', hasPassword: true },
        T0 + 1,
      );
      assert.equal(updated?.hasPassword, true);
      assert.equal((await store.users.create(newUser())).hasPassword, true);
    },
  },
];
