// Conformance cases for the authorization code flow's tables: authorization codes and consents.
import assert from 'node:assert/strict';
import type { NewAuthorizationCode, Store } from '../../src/store/index.ts';
import { FAR_FUTURE, newUser, nextId, type StoreCase, T0 } from './harness.ts';

async function clientAndUser(store: Store): Promise<{ clientId: string; userId: string }> {
  const user = await store.users.create(newUser());
  const client = await store.clients.create({
    clientId: nextId('client'),
    name: 'An app',
    redirectUris: ['https://app.example/cb'],
    postLogoutRedirectUris: [],
    grantTypes: ['authorization_code'],
    scope: ['openid', 'read'],
    tokenEndpointAuthMethod: 'none',
    idTokenSignedResponseAlg: 'RS256',
    firstParty: false,
    secretHash: null,
    createdAt: T0,
  });
  return { clientId: client.clientId, userId: user.id };
}

function newCode(
  ids: { clientId: string; userId: string },
  over: Partial<NewAuthorizationCode> = {},
): NewAuthorizationCode {
  return {
    hash: nextId('code'),
    ...ids,
    redirectUri: 'https://app.example/cb?x=1&y=ü',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    scope: 'openid read',
    nonce: 'n-0S6_WzA2Mj',
    authTime: T0,
    securityVersion: 3,
    createdAt: T0,
    expiresAt: T0 + 60_000,
    ...over,
  };
}

export const authorizationCases: StoreCase[] = [
  {
    name: 'authorization codes: every field round-trips, null redirect URI and nonce too',
    async run({ store }) {
      const ids = await clientAndUser(store);
      const full = newCode(ids, { expiresAt: FAR_FUTURE });
      await store.authorizationCodes.insert(full);
      assert.deepEqual(await store.authorizationCodes.findByHash(full.hash), {
        ...full,
        usedAt: null,
        sessionId: null,
      });
      const bare = newCode(ids, { redirectUri: null, nonce: null });
      await store.authorizationCodes.insert(bare);
      const found = await store.authorizationCodes.findByHash(bare.hash);
      assert.equal(found?.redirectUri, null);
      assert.equal(found?.nonce, null);
      assert.equal(await store.authorizationCodes.findByHash('absent'), undefined);
      assert.equal(await store.authorizationCodes.findByHash('nul\u0000'), undefined);
    },
  },
  {
    name: 'authorization codes: consume is single use, refuses expired codes, and records the session',
    async run({ store }) {
      const ids = await clientAndUser(store);
      const code = newCode(ids);
      await store.authorizationCodes.insert(code);
      const results = await Promise.all(
        Array.from({ length: 5 }, () => store.authorizationCodes.consume(code.hash, T0 + 1)),
      );
      assert.equal(results.filter(Boolean).length, 1);
      await store.authorizationCodes.setSession(code.hash, 'session-1');
      const used = await store.authorizationCodes.findByHash(code.hash);
      assert.equal(used?.usedAt, T0 + 1);
      assert.equal(used?.sessionId, 'session-1');
      const late = newCode(ids);
      await store.authorizationCodes.insert(late);
      assert.equal(await store.authorizationCodes.consume(late.hash, late.expiresAt), false);
      assert.equal(await store.authorizationCodes.deleteExpired(late.expiresAt), 2);
      assert.equal(await store.authorizationCodes.findByHash(late.hash), undefined);
    },
  },
  {
    name: 'consents: grant merges scopes, keeps the first time, lists per user, remove forgets',
    async run({ store }) {
      const ids = await clientAndUser(store);
      const first = await store.consents.grant(ids.userId, ids.clientId, ['openid', 'read'], T0);
      assert.deepEqual(first.scope, ['openid', 'read']);
      const more = await store.consents.grant(ids.userId, ids.clientId, ['read', 'email'], T0 + 5);
      assert.deepEqual(more.scope, ['openid', 'read', 'email']);
      assert.deepEqual(await store.consents.find(ids.userId, ids.clientId), {
        userId: ids.userId,
        clientId: ids.clientId,
        scope: ['openid', 'read', 'email'],
        createdAt: T0,
        updatedAt: T0 + 5,
      });
      assert.equal((await store.consents.listForUser(ids.userId)).length, 1);
      assert.deepEqual(await store.consents.listForUser('nobody'), []);
      assert.equal(await store.consents.remove(ids.userId, ids.clientId), true);
      assert.equal(await store.consents.remove(ids.userId, ids.clientId), false);
      assert.equal(await store.consents.find(ids.userId, ids.clientId), undefined);
    },
  },
  {
    name: 'codes and consents go with their user and with their client (ON DELETE CASCADE)',
    async run({ store }) {
      const ids = await clientAndUser(store);
      const code = newCode(ids);
      await store.authorizationCodes.insert(code);
      await store.consents.grant(ids.userId, ids.clientId, ['openid'], T0);
      assert.equal(await store.clients.delete(ids.clientId), true);
      assert.equal(await store.authorizationCodes.findByHash(code.hash), undefined);
      assert.equal(await store.consents.find(ids.userId, ids.clientId), undefined);
      const other = await clientAndUser(store);
      await store.consents.grant(other.userId, other.clientId, ['openid'], T0);
      assert.equal(await store.users.delete(other.userId), true);
      assert.deepEqual(await store.consents.listForUser(other.userId), []);
    },
  },
];
