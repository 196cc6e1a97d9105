// Conformance cases for refresh tokens, signing keys and revocations.
import assert from 'node:assert/strict';
import { openDatabase } from '../../src/store/database.ts';
import {
  ConflictError,
  createStore,
  type Revocation,
  type SigningKey,
} from '../../src/store/index.ts';
import { createUserWithSession, FAR_FUTURE, type StoreCase, T0 } from './harness.ts';

function isIdConflict(error: unknown): boolean {
  return error instanceof ConflictError && error.field === 'id';
}

export const tokenCases: StoreCase[] = [
  {
    name: 'refresh tokens: insert and findByHash round-trip; duplicate hash conflicts',
    async run({ store }) {
      const { userId, sessionId } = await createUserWithSession(store);
      const hash = 'Zm9vYmFyLWhhc2gtw7zDqQ';
      await store.refreshTokens.insert({
        hash,
        sessionId,
        userId,
        createdAt: T0,
        expiresAt: FAR_FUTURE,
      });
      assert.deepEqual(await store.refreshTokens.findByHash(hash), {
        hash,
        sessionId,
        userId,
        createdAt: T0,
        expiresAt: FAR_FUTURE,
        usedAt: null,
      });
      assert.equal(await store.refreshTokens.findByHash('missing'), undefined);
      await assert.rejects(
        store.refreshTokens.insert({ hash, sessionId, userId, createdAt: T0, expiresAt: T0 }),
        isIdConflict,
      );
    },
  },
  {
    name: 'refresh tokens: markUsed succeeds once and records the first time',
    async run({ store }) {
      const { userId, sessionId } = await createUserWithSession(store);
      await store.refreshTokens.insert({
        hash: 'h',
        sessionId,
        userId,
        createdAt: T0,
        expiresAt: FAR_FUTURE,
      });
      assert.equal(await store.refreshTokens.markUsed('h', T0 + 1), true);
      assert.equal(await store.refreshTokens.markUsed('h', T0 + 2), false);
      assert.equal((await store.refreshTokens.findByHash('h'))?.usedAt, T0 + 1);
      assert.equal(await store.refreshTokens.markUsed('missing', T0), false);
    },
  },
  {
    name: 'refresh tokens: 20 concurrent markUsed on one hash, exactly one wins',
    async run({ store }) {
      const { userId, sessionId } = await createUserWithSession(store);
      await store.refreshTokens.insert({
        hash: 'race',
        sessionId,
        userId,
        createdAt: T0,
        expiresAt: FAR_FUTURE,
      });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.refreshTokens.markUsed('race', T0 + 100 + i)),
      );
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      assert.equal(winners.length, 1, `winners: ${JSON.stringify(winners)}`);
      const [winner] = winners;
      assert.equal(
        (await store.refreshTokens.findByHash('race'))?.usedAt,
        T0 + 100 + (winner ?? -1),
      );
    },
  },
  {
    name: 'refresh tokens: deleteForSession removes only that session’s tokens',
    async run({ store }) {
      const mine = await createUserWithSession(store);
      const theirs = await createUserWithSession(store);
      for (const hash of ['a', 'b', 'c']) {
        await store.refreshTokens.insert({ hash, ...mine, createdAt: T0, expiresAt: FAR_FUTURE });
      }
      await store.refreshTokens.insert({
        hash: 'd',
        ...theirs,
        createdAt: T0,
        expiresAt: FAR_FUTURE,
      });
      assert.equal(await store.refreshTokens.deleteForSession(mine.sessionId), 3);
      assert.equal(await store.refreshTokens.findByHash('a'), undefined);
      assert.ok(await store.refreshTokens.findByHash('d'));
      assert.ok(await store.sessions.findById(mine.sessionId), 'the session itself stays');
      assert.equal(await store.refreshTokens.deleteForSession(mine.sessionId), 0);
    },
  },
  {
    name: 'signing keys: one current key per algorithm (insertCurrent yields to the first, insert conflicts)',
    async run({ store }) {
      const key = (kid: string, alg: string, createdAt: number): SigningKey => ({
        kid,
        alg,
        publicJwk: JSON.stringify({ kid }),
        privateJwk: `sealed ${kid}`,
        createdAt,
        retiredAt: null,
      });
      assert.equal(await store.signingKeys.insertCurrent(key('es-1', 'ES256', T0)), true);
      assert.equal(await store.signingKeys.insertCurrent(key('es-2', 'ES256', T0 + 1)), false);
      await assert.rejects(store.signingKeys.insert(key('es-3', 'ES256', T0 + 2)), isIdConflict);
      assert.equal(await store.signingKeys.insertCurrent(key('rs-1', 'RS256', T0 + 3)), true);
      await store.signingKeys.retire('es-1', T0 + 4);
      assert.equal(await store.signingKeys.insertCurrent(key('es-4', 'ES256', T0 + 5)), true);
      assert.deepEqual(
        (await store.signingKeys.list()).map((k) => [k.kid, k.retiredAt]),
        [
          ['es-1', T0 + 4],
          ['rs-1', null],
          ['es-4', null],
        ],
      );
    },
  },
  {
    name: 'signing keys: insert, list by creation, retire once, delete',
    async run({ store }) {
      const key = (
        kid: string,
        createdAt: number,
        retiredAt: number | null = null,
        alg = 'ES256',
      ): SigningKey => ({
        kid,
        alg,
        publicJwk: JSON.stringify({ kty: 'EC', crv: 'P-256', kid, x: 'xx', y: 'yy' }),
        privateJwk: JSON.stringify({ kty: 'EC', crv: 'P-256', kid, d: 'dd' }),
        createdAt,
        retiredAt,
      });
      assert.deepEqual(await store.signingKeys.list(), []);
      const newest = key('k-new', FAR_FUTURE);
      const oldest = key('k-old', T0, T0 + 5);
      // One current key per algorithm: the middle one is of another.
      const middle = key('k-mid', T0 + 10, null, 'RS256');
      for (const k of [newest, oldest, middle]) await store.signingKeys.insert(k);
      assert.deepEqual(await store.signingKeys.list(), [oldest, middle, newest]);
      await assert.rejects(store.signingKeys.insert(key('k-mid', 1)), isIdConflict);

      await store.signingKeys.retire('k-mid', T0 + 20);
      await store.signingKeys.retire('k-mid', T0 + 30);
      await store.signingKeys.retire('k-old', T0 + 40);
      await store.signingKeys.retire('missing', T0);
      assert.deepEqual(await store.signingKeys.list(), [
        oldest,
        { ...middle, retiredAt: T0 + 20 },
        newest,
      ]);

      await store.signingKeys.delete('k-old');
      await store.signingKeys.delete('missing');
      assert.deepEqual(
        (await store.signingKeys.list()).map((k) => k.kid),
        ['k-mid', 'k-new'],
      );
    },
  },
  {
    name: 'revocations: insert, listActive, cursor and listAfter, deleteExpired',
    async run({ store }) {
      const now = T0 + 1_000;
      const expired = rev('r1', 'session', T0 + 1, now - 1);
      const boundary = rev('r2', 'user', T0 + 2, now);
      const later = rev('r4', 'session', T0 + 900, FAR_FUTURE);
      const live = rev('r3', 'user', T0 + 3, now + 1);
      const start = await store.revocations.cursor();
      for (const r of [later, expired, live, boundary]) await store.revocations.insert(r);
      await assert.rejects(store.revocations.insert(rev('r1', 'user', 0, 0)), isIdConflict);

      assert.deepEqual(await store.revocations.listActive(now), [live, later]);
      const first = await store.revocations.listAfter(start);
      assert.deepEqual(sortById(first.entries), [expired, boundary, live, later]);
      // Past the committed entries: nothing new (on PostgreSQL the same may be read again).
      const again = await store.revocations.listAfter(first.cursor);
      const fresh = rev('r5', 'session', T0 - 10_000, FAR_FUTURE); // an earlier clock: still seen
      await store.revocations.insert(fresh);
      const next = await store.revocations.listAfter(again.cursor);
      assert.ok(
        next.entries.some((e) => e.id === 'r5'),
        'an entry after the cursor is read',
      );

      assert.equal(await store.revocations.deleteExpired(now), 2);
      assert.deepEqual(sortById((await store.revocations.listAfter('0')).entries), [
        live,
        later,
        fresh,
      ]);
      assert.equal(await store.revocations.deleteExpired(now), 0);
    },
  },
  {
    // A cursor by clock time or by a plain sequence moved past a row whose transaction was still
    // open (its time or number taken before a later row's), so other instances never saw it.
    name: 'revocations: an entry committed after a later one is still read after the cursor',
    async run({ kind, url, store }) {
      const other = await openDatabase(url);
      try {
        const second = createStore(other);
        const start = await store.revocations.cursor();
        let release: () => void = () => {};
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        let inserted: () => void = () => {};
        const slowInserted = new Promise<void>((resolve) => {
          inserted = resolve;
        });
        const slow = store.transaction(async (tx) => {
          await tx.revocations.insert(rev('slow', 'session', T0, FAR_FUTURE));
          inserted();
          await gate;
        });
        await slowInserted;
        // SQLite has one writer at a time: only PostgreSQL can commit a later entry meanwhile.
        if (kind === 'postgres')
          await second.revocations.insert(rev('fast', 'session', T0, FAR_FUTURE));
        const during = await second.revocations.listAfter(start);
        assert.equal(
          during.entries.some((e) => e.id === 'slow'),
          false,
          'not committed yet',
        );
        if (kind === 'postgres') assert.ok(during.entries.some((e) => e.id === 'fast'));
        release();
        await slow;
        const after = await second.revocations.listAfter(during.cursor);
        assert.ok(
          after.entries.some((e) => e.id === 'slow'),
          'the late commit is read',
        );
      } finally {
        await other.close();
      }
    },
  },
];

function rev(id: string, kind: Revocation['kind'], at: number, expiresAt: number): Revocation {
  return { id, kind, subject: `${kind}-subject-ü`, at, expiresAt };
}

function sortById(entries: Revocation[]): Revocation[] {
  return [...entries].sort((a, b) => a.id.localeCompare(b.id));
}
