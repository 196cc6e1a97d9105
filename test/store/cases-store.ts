// Conformance cases for the store as a whole: transactions, migrations, ping.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError } from '../../src/store/index.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { migrationNames } from '../../src/store/migrations/index.ts';
import { FAR_FUTURE, newUser, nextId, type StoreCase, T0 } from './harness.ts';

export const storeCases: StoreCase[] = [
  {
    name: 'migrations: the first run applies every migration, the second applies nothing',
    async run({ db, firstMigration }) {
      assert.equal(firstMigration.applied[0], '2026_11_23_000001_initial');
      assert.ok(firstMigration.applied.includes('2026_11_23_000003_account_tokens'));
      assert.ok(firstMigration.applied.includes('2026_11_23_000004_totp'));
      assert.ok(firstMigration.applied.includes('2026_11_23_000002_audit'));
      assert.deepEqual(firstMigration.applied, [...migrationNames]);
      assert.deepEqual(await migrateToLatest(db), { applied: [] });
      assert.deepEqual(await migrateToLatest(db), { applied: [] });
    },
  },
  {
    name: 'the driver returns bigint timestamps, counts and 0/1 flags as JS numbers',
    async run({ db, store }) {
      await store.users.create(newUser({ createdAt: FAR_FUTURE }));
      const row = await db.kysely
        .selectFrom('users')
        .select((eb) => ['created_at', 'is_active', eb.fn.countAll<number>().as('n')])
        .groupBy(['created_at', 'is_active'])
        .executeTakeFirstOrThrow();
      assert.deepEqual(row, { created_at: FAR_FUTURE, is_active: 1, n: 1 });
    },
  },
  {
    name: 'ping answers on a live database',
    async run({ store }) {
      await store.ping();
      await store.transaction((tx) => tx.ping());
    },
  },
  {
    name: 'transaction: commits and returns what fn returns',
    async run({ store }) {
      const user = newUser();
      const result = await store.transaction(async (tx) => {
        await tx.users.create(user);
        await tx.sessions.create({
          id: 's-commit',
          userId: user.id,
          clientId: 'c',
          scope: '',
          createdAt: T0,
          lastUsedAt: T0,
          expiresAt: T0 + 1,
          userAgent: null,
          ip: null,
        });
        assert.ok(await tx.users.findById(user.id), 'a transaction reads its own writes');
        // A nested transaction joins the outer one.
        return tx.transaction(async (inner) => (await inner.users.count()) * 10);
      });
      assert.equal(result, 10);
      assert.ok(await store.users.findById(user.id));
      assert.ok(await store.sessions.findById('s-commit'));
    },
  },
  {
    name: 'transaction: rolls back every write when fn throws, and rethrows',
    async run({ store }) {
      const kept = await store.users.create(newUser());
      const user = newUser();
      const failure = new Error('boom');
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.users.create(user);
          await tx.users.update(kept.id, { isSuperuser: true }, T0 + 1);
          await tx.revocations.insert({
            id: nextId('rev'),
            kind: 'user',
            subject: user.id,
            at: T0,
            expiresAt: T0 + 1,
          });
          throw failure;
        }),
        (error: unknown) => error === failure,
      );
      assert.equal(await store.users.findById(user.id), undefined);
      assert.deepEqual(await store.users.findById(kept.id), kept);
      assert.deepEqual((await store.revocations.listAfter('0')).entries, []);
    },
  },
  {
    name: 'transaction: a ConflictError inside fn rolls back the earlier writes',
    async run({ store }) {
      const existing = await store.users.create(newUser({ username: 'taken' }));
      const fresh = newUser();
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.users.create(fresh);
          await tx.users.create(
            newUser({ username: 'TAKEN', usernameNorm: existing.username, email: 'other@x.io' }),
          );
        }),
        (error: unknown) => error instanceof ConflictError && error.field === 'username',
      );
      assert.equal(await store.users.findById(fresh.id), undefined);
      assert.equal(await store.users.count(), 1);
    },
  },
  {
    name: 'transaction: a write outside the transaction is not swallowed by its rollback',
    async run({ store }) {
      const inside = newUser();
      const outside = newUser();
      let entered!: () => void;
      const started = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const tx = store.transaction(async (t) => {
        await t.users.create(inside);
        entered();
        await sleep(50);
        throw new Error('rollback');
      });
      await started;
      const write = store.users.create(outside);
      await assert.rejects(tx, /rollback/);
      await write;
      assert.equal(await store.users.findById(inside.id), undefined);
      assert.ok(await store.users.findById(outside.id), 'the concurrent write survives');
    },
  },
];
