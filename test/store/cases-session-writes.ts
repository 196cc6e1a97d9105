// Conformance cases for the writes that span tables (store/session-writes.ts): one transaction on
// SQLite, one statement on PostgreSQL; both must answer and leave the same rows.
import assert from 'node:assert/strict';
import { canonicalJson, chainHash, type SessionStart, type Store } from '../../src/store/index.ts';
import { GENESIS_HASH } from '../../src/store/migrations/2026_11_23_000002_audit.ts';
import { newUser, nextId, type StoreCase, T0 } from './harness.ts';

const DAY = 86_400_000;

function startOf(userId: string, securityVersion: number, over: Partial<SessionStart> = {}) {
  const sessionId = nextId('session');
  const start: SessionStart = {
    session: {
      id: sessionId,
      userId,
      clientId: 'portcullis',
      scope: 'read write',
      createdAt: T0,
      lastUsedAt: T0,
      expiresAt: T0 + DAY,
      userAgent: 'agent "ü" \u2028',
      ip: '203.0.113.9',
      authTime: T0 - 5,
    },
    securityVersion,
    refreshToken: {
      hash: nextId('rt'),
      sessionId,
      userId,
      createdAt: T0,
      expiresAt: T0 + DAY,
    },
    audit: {
      at: T0,
      type: 'login.success',
      actorId: userId,
      subjectId: userId,
      ip: '203.0.113.9',
      userAgent: 'agent "ü" \u2028 ✓',
      details: canonicalJson({ session_id: sessionId, note: 'quote " backslash \\ é 𝄞' }),
    },
    ...over,
  };
  return start;
}

/** Walks the whole chain: every entry's hash is chainHash of the one before. */
async function assertChain(store: Store, expected: number): Promise<void> {
  const entries = await store.audit.scan(0, 10_000);
  assert.equal(entries.length, expected);
  let prev = GENESIS_HASH;
  entries.forEach((entry, i) => {
    assert.equal(entry.seq, i + 1);
    assert.equal(entry.prevHash, prev);
    assert.equal(entry.hash, chainHash(prev, entry), `entry ${entry.seq}`);
    prev = entry.hash;
  });
  assert.deepEqual(await store.audit.head(), { seq: expected, hash: prev });
}

async function codeFor(store: Store, userId: string, expiresAt = T0 + 60_000): Promise<string> {
  const clientId = nextId('client');
  await store.clients.create({
    clientId,
    name: 'An app',
    redirectUris: ['https://app.example/cb'],
    postLogoutRedirectUris: [],
    grantTypes: ['authorization_code'],
    scope: ['openid'],
    tokenEndpointAuthMethod: 'none',
    idTokenSignedResponseAlg: 'RS256',
    firstParty: false,
    secretHash: null,
    createdAt: T0,
  });
  const hash = nextId('code');
  await store.authorizationCodes.insert({
    hash,
    clientId,
    userId,
    redirectUri: null,
    codeChallenge: 'c',
    scope: 'openid',
    nonce: null,
    authTime: T0,
    securityVersion: 0,
    createdAt: T0,
    expiresAt,
  });
  return hash;
}

export const sessionWriteCases: StoreCase[] = [
  {
    name: 'sessionWrites.start: the session, its refresh token and the audit entry (hash chained)',
    async run({ store }) {
      const user = await store.users.create(newUser());
      const start = startOf(user.id, user.securityVersion);
      assert.equal(await store.sessionWrites.start(start), 'started');
      const session = await store.sessions.findById(start.session.id);
      assert.equal(session?.authTime, T0 - 5);
      assert.equal(session?.userAgent, start.session.userAgent);
      assert.equal(
        (await store.refreshTokens.findByHash(start.refreshToken?.hash ?? ''))?.usedAt,
        null,
      );
      const [entry] = await store.audit.scan(0, 10);
      assert.equal(entry?.details, start.audit.details);
      assert.equal(entry?.userAgent, start.audit.userAgent);
      await assertChain(store, 1);
      // Without a refresh token: the session only.
      const bare = startOf(user.id, user.securityVersion, { refreshToken: undefined });
      assert.equal(await store.sessionWrites.start(bare), 'started');
      assert.ok(await store.sessions.findById(bare.session.id));
      await assertChain(store, 2);
    },
  },
  {
    name: 'sessionWrites.start: a changed or disabled user writes nothing (no session, token, entry)',
    async run({ store }) {
      const user = await store.users.create(newUser());
      const stale = startOf(user.id, user.securityVersion + 1);
      assert.equal(await store.sessionWrites.start(stale), 'user_changed');
      await store.users.update(user.id, { isActive: false }, T0 + 1);
      const disabled = startOf(user.id, user.securityVersion);
      assert.equal(await store.sessionWrites.start(disabled), 'user_changed');
      for (const start of [stale, disabled]) {
        assert.equal(await store.sessions.findById(start.session.id), undefined);
        assert.equal(
          await store.refreshTokens.findByHash(start.refreshToken?.hash ?? ''),
          undefined,
        );
      }
      await assertChain(store, 0);
    },
  },
  {
    name: 'sessionWrites.start with a code: spent once (of 8 at once), an expired one refused, nothing else written',
    async run({ store }) {
      const user = await store.users.create(newUser());
      const code = await codeFor(store, user.id);
      const starts = Array.from({ length: 8 }, () =>
        startOf(user.id, user.securityVersion, { code: { hash: code, now: T0 + 1 } }),
      );
      const results = await Promise.all(starts.map((x) => store.sessionWrites.start(x)));
      assert.equal(results.filter((r) => r === 'started').length, 1);
      assert.equal(results.filter((r) => r === 'code_spent').length, 7);
      const winner = starts[results.indexOf('started')];
      const spent = await store.authorizationCodes.findByHash(code);
      assert.equal(spent?.usedAt, T0 + 1);
      assert.equal(spent?.sessionId, winner?.session.id);
      for (const [i, start] of starts.entries()) {
        const found = await store.sessions.findById(start.session.id);
        assert.equal(found !== undefined, results[i] === 'started');
      }
      const late = await codeFor(store, user.id, T0 + 10);
      const expired = startOf(user.id, user.securityVersion, {
        code: { hash: late, now: T0 + 10 },
      });
      assert.equal(await store.sessionWrites.start(expired), 'code_spent');
      assert.equal((await store.authorizationCodes.findByHash(late))?.usedAt, null);
      // A changed user is refused before the code is touched: it stays unspent.
      const fresh = await codeFor(store, user.id);
      const changed = startOf(user.id, user.securityVersion + 1, {
        code: { hash: fresh, now: T0 },
      });
      assert.equal(await store.sessionWrites.start(changed), 'user_changed');
      assert.equal((await store.authorizationCodes.findByHash(fresh))?.usedAt, null);
      await assertChain(store, 1);
    },
  },
  {
    name: 'sessionWrites.start: 40 concurrent sign-ins of 10 users keep one unbroken audit chain',
    async run({ store }) {
      const users = await Promise.all(
        Array.from({ length: 10 }, () => store.users.create(newUser())),
      );
      const starts = Array.from({ length: 40 }, (_, i) => {
        const user = users[i % users.length];
        assert.ok(user);
        return startOf(user.id, user.securityVersion);
      });
      const results = await Promise.all(starts.map((x) => store.sessionWrites.start(x)));
      assert.deepEqual(new Set(results), new Set(['started']));
      await assertChain(store, 40);
    },
  },
  {
    name: 'sessionWrites.rotate: rotated once (of 6 at once), spent after, session_ended writes no successor',
    async run({ store }) {
      const user = await store.users.create(newUser());
      const start = startOf(user.id, user.securityVersion);
      await store.sessionWrites.start(start);
      const first = start.refreshToken?.hash ?? '';
      const successors = Array.from({ length: 6 }, () => ({
        hash: nextId('rt'),
        sessionId: start.session.id,
        userId: user.id,
        createdAt: T0 + 1,
        expiresAt: T0 + 2 * DAY,
      }));
      const results = await Promise.all(
        successors.map((successor) =>
          store.sessionWrites.rotate({ hash: first, now: T0 + 1, successor }),
        ),
      );
      assert.equal(results.filter((r) => r === 'rotated').length, 1);
      assert.equal(results.filter((r) => r === 'spent').length, 5);
      for (const [i, successor] of successors.entries()) {
        const stored = await store.refreshTokens.findByHash(successor.hash);
        assert.equal(stored !== undefined, results[i] === 'rotated');
      }
      assert.equal((await store.refreshTokens.findByHash(first))?.usedAt, T0 + 1);
      const session = await store.sessions.findById(start.session.id);
      assert.equal(session?.lastUsedAt, T0 + 1);
      assert.equal(session?.expiresAt, T0 + 2 * DAY);

      const live = successors[results.indexOf('rotated')];
      assert.ok(live);
      await store.sessions.revoke(start.session.id, T0 + 2);
      const orphan = { ...live, hash: nextId('rt'), createdAt: T0 + 3 };
      assert.equal(
        await store.sessionWrites.rotate({ hash: live.hash, now: T0 + 3, successor: orphan }),
        'session_ended',
      );
      assert.equal(await store.refreshTokens.findByHash(orphan.hash), undefined);
      assert.equal((await store.sessions.findById(start.session.id))?.lastUsedAt, T0 + 1);
      assert.equal(
        await store.sessionWrites.rotate({ hash: 'unknown', now: T0 + 3, successor: orphan }),
        'spent',
      );
    },
  },
  {
    name: 'refreshTokens.findWithSession: the token, its session and user in one read',
    async run({ store }) {
      const user = await store.users.create(newUser({ scopes: ['read', 'admin'] }));
      const start = startOf(user.id, user.securityVersion);
      await store.sessionWrites.start(start);
      const found = await store.refreshTokens.findWithSession(start.refreshToken?.hash ?? '');
      assert.deepEqual(found?.user, await store.users.findById(user.id));
      assert.deepEqual(found?.session, await store.sessions.findById(start.session.id));
      assert.deepEqual(
        found?.token,
        await store.refreshTokens.findByHash(start.refreshToken?.hash ?? ''),
      );
      assert.equal(await store.refreshTokens.findWithSession('absent'), undefined);
      assert.equal(await store.refreshTokens.findWithSession('nul\u0000'), undefined);
    },
  },
  {
    name: 'authorizationCodes.findWithUser(AndClient): the code with its user (and client) in one read',
    async run({ store }) {
      const user = await store.users.create(newUser({ scopes: ['read'] }));
      const hash = await codeFor(store, user.id);
      const found = await store.authorizationCodes.findWithUser(hash);
      assert.deepEqual(found?.code, await store.authorizationCodes.findByHash(hash));
      assert.deepEqual(found?.user, await store.users.findById(user.id));
      assert.equal(await store.authorizationCodes.findWithUser('absent'), undefined);
      assert.equal(await store.authorizationCodes.findWithUser('nul\u0000'), undefined);
      const withClient = await store.authorizationCodes.findWithUserAndClient(hash);
      assert.deepEqual(withClient?.code, found?.code);
      assert.deepEqual(withClient?.user, found?.user);
      assert.deepEqual(
        withClient?.client,
        await store.clients.findById(found?.code.clientId ?? ''),
      );
      assert.equal(await store.authorizationCodes.findWithUserAndClient('absent'), undefined);
      assert.equal(await store.authorizationCodes.findWithUserAndClient('nul\u0000'), undefined);
    },
  },
];
