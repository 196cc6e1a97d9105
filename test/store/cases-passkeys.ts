// Conformance cases for passkeys: WebAuthn credentials and their single-use ceremony challenges.
import assert from 'node:assert/strict';
import {
  ConflictError,
  type NewPasskeyCredential,
  type PasskeyChallenge,
} from '../../src/store/index.ts';
import { newUser, nextId, type StoreCase, T0 } from './harness.ts';

const MINUTE = 60_000;

function credential(
  userId: string,
  fields: Partial<NewPasskeyCredential> = {},
): NewPasskeyCredential {
  return {
    id: nextId('pk'),
    userId,
    credentialId: `cred-${Math.random().toString(36).slice(2)}`,
    publicKey: 'pQECAyYgASFYIA',
    counter: 0,
    transports: ['internal', 'hybrid'],
    deviceType: 'multiDevice',
    backedUp: true,
    name: 'Laptop',
    createdAt: T0,
    ...fields,
  };
}

function challenge(fields: Partial<PasskeyChallenge> = {}): PasskeyChallenge {
  return {
    challenge: `ch-${Math.random().toString(36).slice(2)}`,
    bindingHash: 'browser-a',
    purpose: 'login',
    userId: null,
    createdAt: T0,
    expiresAt: T0 + 5 * MINUTE,
    ...fields,
  };
}

export const passkeyCases: StoreCase[] = [
  {
    name: 'passkeys: insert round-trips every field; list, count, rename and delete are per user',
    async run({ store }) {
      const alice = await store.users.create(newUser());
      const bob = await store.users.create(newUser());
      const c = credential(alice.id);
      await store.passkeys.insert(c);
      await store.passkeys.insert(credential(alice.id, { createdAt: T0 + 1 }));
      await store.passkeys.insert(credential(bob.id));
      assert.deepEqual(await store.passkeys.findById(c.id), { ...c, lastUsedAt: null });
      assert.deepEqual(await store.passkeys.findByCredentialId(c.credentialId), {
        ...c,
        lastUsedAt: null,
      });
      assert.equal((await store.passkeys.listByUser(alice.id)).length, 2);
      assert.equal(await store.passkeys.countByUser(alice.id), 2);
      const counts = await store.passkeys.countByUsers([alice.id, bob.id, 'nobody']);
      assert.equal(counts.get(alice.id), 2);
      assert.equal(counts.get(bob.id), 1);
      assert.equal(counts.get('nobody'), undefined);
      assert.equal(await store.passkeys.rename(bob.id, c.id, 'Stolen'), undefined, "not bob's");
      assert.equal((await store.passkeys.rename(alice.id, c.id, 'Phone'))?.name, 'Phone');
      assert.equal(await store.passkeys.delete(bob.id, c.id), false);
      assert.equal(await store.passkeys.delete(alice.id, c.id), true);
      assert.equal(await store.passkeys.findById(c.id), undefined);
    },
  },
  {
    name: 'passkeys: a credential id is registered once, whoever registers it again',
    async run({ store }) {
      const alice = await store.users.create(newUser());
      const bob = await store.users.create(newUser());
      const c = credential(alice.id);
      await store.passkeys.insert(c);
      await assert.rejects(
        store.passkeys.insert(credential(bob.id, { credentialId: c.credentialId })),
        (e: unknown) => e instanceof ConflictError,
      );
    },
  },
  {
    name: 'passkeys: deleting the user deletes their passkeys and challenges',
    async run({ store }) {
      const alice = await store.users.create(newUser());
      const c = credential(alice.id);
      await store.passkeys.insert(c);
      const ch = challenge({ purpose: 'register', userId: alice.id });
      await store.passkeyChallenges.insert(ch);
      await store.users.delete(alice.id);
      assert.equal(await store.passkeys.findById(c.id), undefined);
      const match = { bindingHash: ch.bindingHash, purpose: ch.purpose, userId: alice.id };
      assert.equal(await store.passkeyChallenges.consume(ch.challenge, match, T0), undefined);
    },
  },
  {
    name: 'passkeys: recordUse moves the counter only from the value read (one winner of a race)',
    async run({ store }) {
      const alice = await store.users.create(newUser());
      const c = credential(alice.id, { counter: 5 });
      await store.passkeys.insert(c);
      const results = await Promise.all([
        store.passkeys.recordUse(c.id, 5, 6, T0 + 1),
        store.passkeys.recordUse(c.id, 5, 6, T0 + 2),
      ]);
      assert.deepEqual(results.filter(Boolean).length, 1);
      const after = await store.passkeys.findById(c.id);
      assert.equal(after?.counter, 6);
      assert.ok(after?.lastUsedAt);
    },
  },
  {
    name: 'passkey challenges: consumed once, by the browser and for the purpose and user they were made for',
    async run({ store }) {
      const alice = await store.users.create(newUser());
      const login = challenge();
      const reg = challenge({ purpose: 'register', userId: alice.id });
      const old = challenge({ createdAt: T0 - 10 * MINUTE, expiresAt: T0 - 5 * MINUTE });
      await store.passkeyChallenges.insert(old);
      await store.passkeyChallenges.insert(login);
      await store.passkeyChallenges.insert(reg);
      const asLogin = { bindingHash: 'browser-a', purpose: 'login', userId: null } as const;
      const now = T0 + MINUTE;
      assert.equal(await store.passkeyChallenges.consume(old.challenge, asLogin, now), undefined);
      assert.equal(
        await store.passkeyChallenges.consume(
          login.challenge,
          { ...asLogin, bindingHash: 'b' },
          now,
        ),
        undefined,
        'another browser',
      );
      assert.equal(await store.passkeyChallenges.consume(reg.challenge, asLogin, now), undefined);
      assert.equal(
        await store.passkeyChallenges.consume(
          reg.challenge,
          { bindingHash: 'browser-a', purpose: 'register', userId: 'someone-else' },
          now,
        ),
        undefined,
      );
      assert.equal(
        await store.passkeyChallenges.consume(login.challenge, asLogin, T0 + 5 * MINUTE),
        undefined,
        'expired at five minutes',
      );
      const second = challenge();
      await store.passkeyChallenges.insert(second);
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, () =>
          store.passkeyChallenges.consume(second.challenge, asLogin, now),
        ),
      );
      assert.equal(outcomes.filter((o) => o !== undefined).length, 1, 'one winner');
      assert.ok(
        await store.passkeyChallenges.consume(
          reg.challenge,
          { bindingHash: 'browser-a', purpose: 'register', userId: alice.id },
          now,
        ),
      );
      assert.equal(await store.passkeyChallenges.deleteExpired(T0 + 6 * MINUTE), 1);
    },
  },
];
