// Conformance cases for the sessions repository.
import assert from 'node:assert/strict';
import { ConflictError, type NewSession, type Session, type Store } from '../../src/store/index.ts';
import {
  createUserWithSession,
  FAR_FUTURE,
  newUser,
  nextId,
  type StoreCase,
  T0,
} from './harness.ts';

const HOUR = 3_600_000;

async function addSession(
  store: Store,
  userId: string,
  fields: Partial<NewSession> = {},
): Promise<string> {
  const id = fields.id ?? nextId('session');
  await store.sessions.create({
    id,
    userId,
    clientId: 'portcullis',
    scope: 'read',
    createdAt: T0,
    lastUsedAt: T0,
    expiresAt: T0 + HOUR,
    userAgent: null,
    ip: null,
    ...fields,
  });
  return id;
}

export const sessionCases: StoreCase[] = [
  {
    name: 'sessions: create and findById round-trip every field, null and not',
    async run({ store }) {
      const user = await store.users.create(newUser());
      const full: Session = {
        id: nextId('session'),
        userId: user.id,
        clientId: 'mobile-app',
        scope: 'read write admin',
        createdAt: T0,
        lastUsedAt: T0 + 1,
        expiresAt: FAR_FUTURE,
        userAgent: 'Mozilla/5.0 (X11; Linux) 🦊 Ünïcødé',
        ip: '2001:db8::1',
        revokedAt: null,
        authTime: T0,
      };
      const { revokedAt: _, ...input } = full;
      await store.sessions.create(input);
      assert.deepEqual(await store.sessions.findById(full.id), full);
      const bare = await addSession(store, user.id, { userAgent: null, ip: null });
      const found = await store.sessions.findById(bare);
      assert.equal(found?.userAgent, null);
      assert.equal(found?.ip, null);
      assert.equal(found?.revokedAt, null);
      assert.equal(await store.sessions.findById('missing'), undefined);
      // The foreign key is enforced (SQLite needs PRAGMA foreign_keys for that).
      await assert.rejects(
        addSession(store, 'no-such-user'),
        (error: unknown) => !(error instanceof ConflictError),
      );
      await assert.rejects(addSession(store, user.id, { id: full.id }), (error: unknown) => {
        assert.ok(error instanceof ConflictError);
        assert.equal(error.field, 'id');
        return true;
      });
    },
  },
  {
    name: 'sessions: listActive keeps unrevoked unexpired sessions of the user, most recent first',
    async run({ store }) {
      const now = T0 + HOUR;
      const me = (await store.users.create(newUser())).id;
      const other = (await store.users.create(newUser())).id;
      const older = await addSession(store, me, { lastUsedAt: T0 + 10, expiresAt: now + 1 });
      const newer = await addSession(store, me, { lastUsedAt: T0 + 20, expiresAt: FAR_FUTURE });
      await addSession(store, me, { expiresAt: now }); // expires exactly now: not active
      const revoked = await addSession(store, me, { expiresAt: FAR_FUTURE });
      await store.sessions.revoke(revoked, T0);
      await addSession(store, other, { expiresAt: FAR_FUTURE });
      const active = await store.sessions.listActive(me, now);
      assert.deepEqual(
        active.map((s) => s.id),
        [newer, older],
      );
      assert.deepEqual(active[0], await store.sessions.findById(newer));
      assert.deepEqual(await store.sessions.listActive('nobody', now), []);
    },
  },
  {
    name: 'sessions: touch moves lastUsedAt and expiresAt',
    async run({ store }) {
      const { sessionId } = await createUserWithSession(store);
      await store.sessions.touch(sessionId, T0 + 500, FAR_FUTURE);
      const session = await store.sessions.findById(sessionId);
      assert.equal(session?.lastUsedAt, T0 + 500);
      assert.equal(session?.expiresAt, FAR_FUTURE);
      assert.equal(session?.createdAt, T0);
      assert.equal(await store.sessions.touch('missing', T0, T0), false); // no row, no error
    },
  },
  {
    name: 'sessions: touch leaves a revoked session alone and says so',
    async run({ store }) {
      const { sessionId } = await createUserWithSession(store);
      assert.equal(await store.sessions.touch(sessionId, T0 + 1, FAR_FUTURE), true);
      assert.equal(await store.sessions.revoke(sessionId, T0 + 2), true);
      assert.equal(await store.sessions.touch(sessionId, T0 + 3, FAR_FUTURE + 1), false);
      const session = await store.sessions.findById(sessionId);
      assert.equal(session?.lastUsedAt, T0 + 1);
      assert.equal(session?.revokedAt, T0 + 2);
    },
  },
  {
    name: 'sessions: revoke is true only the first time and keeps the first time',
    async run({ store }) {
      const { sessionId } = await createUserWithSession(store);
      assert.equal(await store.sessions.revoke(sessionId, T0 + 1), true);
      assert.equal(await store.sessions.revoke(sessionId, T0 + 2), false);
      assert.equal((await store.sessions.findById(sessionId))?.revokedAt, T0 + 1);
      assert.equal(await store.sessions.revoke('missing', T0), false);
    },
  },
  {
    name: 'sessions: revokeAllForUser returns the ids it newly revoked, sparing exceptId',
    async run({ store }) {
      const me = (await store.users.create(newUser())).id;
      const other = (await store.users.create(newUser())).id;
      const keep = await addSession(store, me);
      const a = await addSession(store, me);
      const b = await addSession(store, me, { expiresAt: T0 - 1 });
      const already = await addSession(store, me);
      await store.sessions.revoke(already, T0);
      const theirs = await addSession(store, other);

      const revoked = await store.sessions.revokeAllForUser(me, T0 + 7, keep);
      assert.deepEqual([...revoked].sort(), [a, b].sort());
      assert.equal((await store.sessions.findById(a))?.revokedAt, T0 + 7);
      assert.equal(
        (await store.sessions.findById(already))?.revokedAt,
        T0,
        'first revocation kept',
      );
      assert.equal((await store.sessions.findById(keep))?.revokedAt, null);
      assert.equal((await store.sessions.findById(theirs))?.revokedAt, null);
      assert.deepEqual(await store.sessions.revokeAllForUser(me, T0 + 8, keep), []);
      assert.deepEqual(await store.sessions.revokeAllForUser(me, T0 + 9), [keep]);
      assert.deepEqual(await store.sessions.revokeAllForUser(me, T0 + 10), []);
    },
  },
  {
    name: 'sessions: deleteExpired removes sessions at or past expiry with their refresh tokens',
    async run({ store }) {
      const now = T0 + HOUR;
      const me = (await store.users.create(newUser())).id;
      const past = await addSession(store, me, { expiresAt: now - 1 });
      const exact = await addSession(store, me, { expiresAt: now });
      const live = await addSession(store, me, { expiresAt: now + 1 });
      await store.refreshTokens.insert({
        hash: 'old',
        sessionId: past,
        userId: me,
        createdAt: T0,
        expiresAt: now,
      });
      await store.refreshTokens.insert({
        hash: 'new',
        sessionId: live,
        userId: me,
        createdAt: T0,
        expiresAt: now,
      });
      assert.equal(await store.sessions.deleteExpired(now), 2);
      assert.equal(await store.sessions.findById(past), undefined);
      assert.equal(await store.sessions.findById(exact), undefined);
      assert.ok(await store.sessions.findById(live));
      assert.equal(await store.refreshTokens.findByHash('old'), undefined);
      assert.ok(await store.refreshTokens.findByHash('new'));
      assert.equal(await store.sessions.deleteExpired(now), 0);
    },
  },
];
