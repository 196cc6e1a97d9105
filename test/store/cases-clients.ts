// Conformance cases for the clients repository (the OAuth client registry).
import assert from 'node:assert/strict';
import { type Client, ConflictError, type NewClient } from '../../src/store/index.ts';
import { createUserWithSession, FAR_FUTURE, nextId, type StoreCase, T0 } from './harness.ts';

function newClient(overrides: Partial<NewClient> = {}): NewClient {
  return {
    clientId: overrides.clientId ?? nextId('client'),
    name: 'An app',
    redirectUris: ['https://app.example/cb'],
    postLogoutRedirectUris: [],
    grantTypes: ['authorization_code', 'refresh_token'],
    scope: ['openid', 'read'],
    tokenEndpointAuthMethod: 'none',
    idTokenSignedResponseAlg: 'RS256',
    firstParty: false,
    secretHash: null,
    createdAt: T0,
    ...overrides,
  };
}

export const clientCases: StoreCase[] = [
  {
    name: 'clients: create and findById round-trip every field, odd URIs and names included',
    async run({ store }) {
      const input = newClient({
        name: 'Zoë’s app 🙂 "quoted" \\ back',
        redirectUris: ['https://a.example/cb?x=1&y=a b', 'http://127.0.0.1:8080/cb', 'x:"y"'],
        postLogoutRedirectUris: ['https://a.example/bye'],
        grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
        scope: ['openid', 'profile', 'x:y/z'],
        tokenEndpointAuthMethod: 'client_secret_post',
        idTokenSignedResponseAlg: 'ES256',
        firstParty: true,
        secretHash: 'sha256:abc',
        createdAt: FAR_FUTURE,
      });
      const expected: Client = { ...input, updatedAt: FAR_FUTURE };
      assert.deepEqual(await store.clients.create(input), expected);
      assert.deepEqual(await store.clients.findById(input.clientId), expected);
      assert.equal(await store.clients.findById('missing'), undefined);
      assert.equal(await store.clients.findById(input.clientId.toUpperCase()), undefined);
      assert.equal(await store.clients.findById('nul\u0000id'), undefined);
    },
  },
  {
    name: 'clients: empty lists, a false flag and no secret round-trip',
    async run({ store }) {
      const input = newClient({ redirectUris: [], grantTypes: [], scope: [], createdAt: 0 });
      assert.deepEqual(await store.clients.create(input), { ...input, updatedAt: 0 });
      assert.deepEqual(await store.clients.findById(input.clientId), { ...input, updatedAt: 0 });
    },
  },
  {
    name: 'clients: a taken client_id is a ConflictError on id',
    async run({ store }) {
      const first = await store.clients.create(newClient());
      await assert.rejects(
        store.clients.create(newClient({ clientId: first.clientId })),
        (error: unknown) => error instanceof ConflictError && error.field === 'id',
      );
    },
  },
  {
    name: 'clients: list pages in client_id order with limit and after',
    async run({ store }) {
      const ids = ['c-b', 'c-a', 'c-d', 'c-c', 'c-e'];
      for (const clientId of ids) await store.clients.create(newClient({ clientId }));
      const page1 = await store.clients.list({ limit: 2 });
      assert.deepEqual(
        page1.map((c) => c.clientId),
        ['c-a', 'c-b'],
      );
      const page2 = await store.clients.list({ limit: 2, after: 'c-b' });
      assert.deepEqual(
        page2.map((c) => c.clientId),
        ['c-c', 'c-d'],
      );
      const page3 = await store.clients.list({ limit: 2, after: 'c-d' });
      assert.deepEqual(
        page3.map((c) => c.clientId),
        ['c-e'],
      );
      assert.deepEqual(await store.clients.list({ limit: 2, after: 'c-e' }), []);
      assert.deepEqual(await store.clients.list({ limit: 2, after: 'x\u0000' }), []);
    },
  },
  {
    name: 'clients: update changes only the given fields and updated_at; setSecretHash; delete',
    async run({ store }) {
      const c = await store.clients.create(newClient({ secretHash: 'old' }));
      const updated = await store.clients.update(
        c.clientId,
        { name: 'Renamed', redirectUris: ['https://b.example/cb'], firstParty: true },
        T0 + 5,
      );
      assert.deepEqual(updated, {
        ...c,
        name: 'Renamed',
        redirectUris: ['https://b.example/cb'],
        firstParty: true,
        updatedAt: T0 + 5,
      });
      assert.equal(await store.clients.update('missing', { name: 'x' }, T0), undefined);
      assert.equal(await store.clients.setSecretHash(c.clientId, 'new', T0 + 9), true);
      assert.equal((await store.clients.findById(c.clientId))?.secretHash, 'new');
      assert.equal((await store.clients.findById(c.clientId))?.updatedAt, T0 + 9);
      assert.equal(await store.clients.setSecretHash('missing', 'x', T0), false);
      assert.equal(await store.clients.delete(c.clientId), true);
      assert.equal(await store.clients.delete(c.clientId), false);
      assert.equal(await store.clients.findById(c.clientId), undefined);
    },
  },
  {
    name: 'sessions: listOpenIdsOfClient lists unrevoked sessions of that client only',
    async run({ store }) {
      const { userId, sessionId } = await createUserWithSession(store);
      const other = nextId('session');
      await store.sessions.create({
        id: other,
        userId,
        clientId: 'the-app',
        scope: 'read',
        createdAt: T0,
        lastUsedAt: T0,
        expiresAt: T0 + 1,
        userAgent: null,
        ip: null,
      });
      assert.deepEqual(await store.sessions.listOpenIdsOfClient('the-app'), [other]);
      assert.deepEqual(await store.sessions.listOpenIdsOfClient('portcullis'), [sessionId]);
      await store.sessions.revoke(other, T0);
      assert.deepEqual(await store.sessions.listOpenIdsOfClient('the-app'), []);
      assert.deepEqual(await store.sessions.listOpenIdsOfClient('a\u0000b'), []);
    },
  },
];
