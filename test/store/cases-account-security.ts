// Conformance cases for account tokens, TOTP credentials, recovery codes and MFA challenges.
import assert from 'node:assert/strict';
import { ConflictError, type NewAccountToken } from '../../src/store/index.ts';
import { FAR_FUTURE, newUser, type StoreCase, T0 } from './harness.ts';

const MINUTE = 60_000;

function token(userId: string, fields: Partial<NewAccountToken> = {}): NewAccountToken {
  return {
    hash: `hash-${Math.random().toString(36).slice(2)}`,
    purpose: 'password_reset',
    userId,
    binding: 'bound-to',
    createdAt: T0,
    expiresAt: T0 + 30 * MINUTE,
    ...fields,
  };
}

const isConflict = (error: unknown): boolean => error instanceof ConflictError;

export const accountSecurityCases: StoreCase[] = [
  {
    name: 'account tokens: replace round-trips every field and deletes older ones of that purpose only',
    async run({ store }) {
      const user = await store.users.create(newUser());
      const first = token(user.id, { expiresAt: FAR_FUTURE });
      await store.accountTokens.replace(first);
      assert.deepEqual(await store.accountTokens.findByHash(first.hash), {
        ...first,
        usedAt: null,
      });
      const verification = token(user.id, { purpose: 'email_verification', createdAt: T0 + 1 });
      await store.accountTokens.replace(verification);
      const second = token(user.id, { createdAt: T0 + 2 });
      await store.accountTokens.replace(second);
      assert.equal(await store.accountTokens.findByHash(first.hash), undefined);
      assert.ok(await store.accountTokens.findByHash(second.hash));
      assert.ok(await store.accountTokens.findByHash(verification.hash), 'other purpose kept');
      assert.equal(await store.accountTokens.lastIssuedAt(user.id, 'password_reset'), T0 + 2);
      assert.equal(await store.accountTokens.lastIssuedAt(user.id, 'email_verification'), T0 + 1);
      const other = await store.users.create(newUser());
      assert.equal(await store.accountTokens.lastIssuedAt(other.id, 'password_reset'), undefined);
      // Another user's token with the same hash is a conflict, never an overwrite.
      await assert.rejects(
        store.accountTokens.replace({ ...second, userId: other.id }),
        isConflict,
      );
    },
  },
  {
    name: 'account tokens: consume succeeds once, only for its purpose and before it expires',
    async run({ store }) {
      const user = await store.users.create(newUser());
      const live = token(user.id);
      await store.accountTokens.replace(live);
      assert.equal(await store.accountTokens.consume(live.hash, 'email_verification', T0), false);
      assert.equal(
        await store.accountTokens.consume(live.hash, 'password_reset', live.expiresAt),
        false,
      );
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          store.accountTokens.consume(live.hash, 'password_reset', T0 + 5),
        ),
      );
      assert.deepEqual(results.filter(Boolean).length, 1);
      assert.equal((await store.accountTokens.findByHash(live.hash))?.usedAt, T0 + 5);
      assert.equal(await store.accountTokens.consume('missing', 'password_reset', T0), false);
    },
  },
  {
    name: 'account tokens, TOTP, recovery codes and challenges go with their user',
    async run({ store }) {
      const user = await store.users.create(newUser());
      await store.accountTokens.replace(token(user.id, { hash: 'gone-token' }));
      await store.totp.savePending(user.id, 'sealed', T0);
      await store.recoveryCodes.replace(user.id, ['code-a'], T0);
      await store.mfaChallenges.insert({
        hash: 'gone-challenge',
        securityVersion: 0,
        userId: user.id,
        clientId: 'c',
        scope: 'read',
        createdAt: T0,
        expiresAt: T0 + 5 * MINUTE,
      });
      assert.equal(await store.users.delete(user.id), true);
      assert.equal(await store.accountTokens.findByHash('gone-token'), undefined);
      assert.equal(await store.totp.find(user.id), undefined);
      assert.equal(await store.recoveryCodes.countUnused(user.id), 0);
      assert.equal(await store.mfaChallenges.findByHash('gone-challenge'), undefined);
    },
  },
  {
    name: 'totp: a pending secret is replaced, confirmed once, and then refuses a new pending one',
    async run({ store }) {
      const user = await store.users.create(newUser());
      assert.equal(await store.totp.find(user.id), undefined);
      await store.totp.savePending(user.id, 'sealed-1', T0);
      await store.totp.savePending(user.id, 'sealed-2', T0 + 1);
      assert.deepEqual(await store.totp.find(user.id), {
        userId: user.id,
        secretSealed: 'sealed-2',
        createdAt: T0 + 1,
        confirmedAt: null,
        lastStep: null,
      });
      assert.equal(await store.totp.confirm(user.id, T0 + 2), true);
      assert.equal(await store.totp.confirm(user.id, T0 + 3), false);
      assert.equal((await store.totp.find(user.id))?.confirmedAt, T0 + 2);
      await assert.rejects(store.totp.savePending(user.id, 'sealed-3', T0 + 4), isConflict);
      assert.equal((await store.totp.find(user.id))?.secretSealed, 'sealed-2');
      assert.equal(await store.totp.delete(user.id), true);
      assert.equal(await store.totp.delete(user.id), false);
    },
  },
  {
    name: 'totp: useStep accepts each step once, never an older one, one winner under concurrency',
    async run({ store }) {
      const user = await store.users.create(newUser());
      assert.equal(await store.totp.useStep(user.id, 5), false, 'no credential, no step');
      await store.totp.savePending(user.id, 'sealed', T0);
      // Steps of today's clock and beyond 2038 fit the column on both databases.
      const step = Math.floor(20_000_000_000 / 30);
      assert.equal(await store.totp.useStep(user.id, step), true);
      assert.equal(await store.totp.useStep(user.id, step), false);
      assert.equal(await store.totp.useStep(user.id, step - 1), false);
      const racing = await Promise.all(
        Array.from({ length: 5 }, () => store.totp.useStep(user.id, step + 1)),
      );
      assert.equal(racing.filter(Boolean).length, 1);
      assert.equal((await store.totp.find(user.id))?.lastStep, step + 1);
    },
  },
  {
    name: 'totp: reseal replaces the sealed secret only while it is still the one read; listAfter pages in id order',
    async run({ store }) {
      const user = await store.users.create(newUser());
      assert.equal(await store.totp.reseal(user.id, 'old', 'new'), false, 'no credential');
      await store.totp.savePending(user.id, 'old', T0);
      assert.equal(await store.totp.confirm(user.id, T0 + 1), true);
      assert.equal(await store.totp.useStep(user.id, 7), true);
      assert.equal(await store.totp.reseal(user.id, 'other', 'new'), false, 'changed meanwhile');
      assert.equal(await store.totp.reseal(user.id, 'old', 'new'), true);
      assert.equal(await store.totp.reseal(user.id, 'old', 'newer'), false, 'only once');
      const other = await store.users.create(newUser());
      await store.totp.savePending(other.id, 'pending', T0);
      const ids = [user.id, other.id].sort();
      const page1 = await store.totp.listAfter(null, 1);
      assert.deepEqual(
        page1.map((c) => c.userId),
        ids.slice(0, 1),
      );
      const page2 = await store.totp.listAfter(ids[0] ?? null, 10);
      assert.deepEqual(
        page2.map((c) => c.userId),
        ids.slice(1),
      );
      assert.deepEqual(await store.totp.listAfter(ids[1] ?? null, 10), []);
      // Only the sealed text changes: confirmation and the replay mark stay.
      assert.deepEqual(await store.totp.find(user.id), {
        userId: user.id,
        secretSealed: 'new',
        createdAt: T0,
        confirmedAt: T0 + 1,
        lastStep: 7,
      });
    },
  },
  {
    name: 'recovery codes: replaced as a set, each consumed once and only by its user',
    async run({ store }) {
      const user = await store.users.create(newUser());
      const other = await store.users.create(newUser());
      await store.recoveryCodes.replace(user.id, ['a', 'b', 'c'], T0);
      // The same hash for two users is allowed: codes are per user.
      await store.recoveryCodes.replace(other.id, ['a'], T0);
      assert.equal(await store.recoveryCodes.countUnused(user.id), 3);
      assert.equal(await store.recoveryCodes.consume(other.id, 'b', T0), false);
      const racing = await Promise.all(
        Array.from({ length: 4 }, () => store.recoveryCodes.consume(user.id, 'a', T0 + 1)),
      );
      assert.equal(racing.filter(Boolean).length, 1);
      assert.equal(await store.recoveryCodes.countUnused(user.id), 2);
      assert.equal(await store.recoveryCodes.countUnused(other.id), 1);
      await store.recoveryCodes.replace(user.id, ['d'], T0 + 2);
      assert.equal(await store.recoveryCodes.countUnused(user.id), 1);
      assert.equal(await store.recoveryCodes.consume(user.id, 'b', T0 + 3), false);
      assert.equal(await store.recoveryCodes.deleteAll(user.id), 1);
      await assert.rejects(store.recoveryCodes.replace(user.id, ['x', 'x'], T0), isConflict);
    },
  },
  {
    name: 'mfa challenges: round-trip, failures counted, consumed once before expiry, dead ones pruned',
    async run({ store }) {
      const user = await store.users.create(newUser());
      const base = {
        userId: user.id,
        clientId: 'app',
        scope: 'read write',
        createdAt: T0,
        securityVersion: 0,
      };
      await store.mfaChallenges.insert({ ...base, hash: 'c1', expiresAt: T0 + 5 * MINUTE });
      assert.deepEqual(await store.mfaChallenges.findByHash('c1'), {
        ...base,
        hash: 'c1',
        expiresAt: T0 + 5 * MINUTE,
        failures: 0,
        usedAt: null,
      });
      assert.equal(await store.mfaChallenges.recordFailure('c1'), 1);
      assert.equal(await store.mfaChallenges.recordFailure('c1'), 2);
      assert.equal(await store.mfaChallenges.recordFailure('missing'), 0);
      assert.equal(await store.mfaChallenges.consume('c1', T0 + 5 * MINUTE), false, 'expired');
      const racing = await Promise.all(
        Array.from({ length: 4 }, () => store.mfaChallenges.consume('c1', T0 + 1)),
      );
      assert.equal(racing.filter(Boolean).length, 1);
      await store.mfaChallenges.insert({ ...base, hash: 'c2', expiresAt: T0 + 10 * MINUTE });
      // A new challenge prunes the user's used (c1) and expired ones, keeps live ones.
      await store.mfaChallenges.insert({
        ...base,
        hash: 'c3',
        createdAt: T0 + 6 * MINUTE,
        expiresAt: T0 + 11 * MINUTE,
      });
      assert.equal(await store.mfaChallenges.findByHash('c1'), undefined);
      assert.ok(await store.mfaChallenges.findByHash('c2'));
      await assert.rejects(
        store.mfaChallenges.insert({ ...base, hash: 'c3', expiresAt: FAR_FUTURE }),
        isConflict,
      );
    },
  },
  {
    name: 'account tokens and mfa challenges: deleteExpired removes exactly the expired ones',
    async run({ store }) {
      const user = await store.users.create(newUser());
      await store.accountTokens.replace(token(user.id, { hash: 'old-reset', expiresAt: T0 }));
      await store.accountTokens.replace(
        token(user.id, { hash: 'live-verify', purpose: 'email_verification', expiresAt: T0 + 1 }),
      );
      const base = {
        userId: user.id,
        clientId: 'c',
        scope: '',
        createdAt: T0 - 1,
        securityVersion: 0,
      };
      await store.mfaChallenges.insert({ ...base, hash: 'old-mfa', expiresAt: T0 });
      await store.mfaChallenges.insert({ ...base, hash: 'live-mfa', expiresAt: T0 + 1 });
      assert.equal(await store.accountTokens.deleteExpired(T0), 1);
      assert.equal(await store.mfaChallenges.deleteExpired(T0), 1);
      assert.equal(await store.accountTokens.findByHash('old-reset'), undefined);
      assert.ok(await store.accountTokens.findByHash('live-verify'));
      assert.equal(await store.mfaChallenges.findByHash('old-mfa'), undefined);
      assert.ok(await store.mfaChallenges.findByHash('live-mfa'));
    },
  },
];
