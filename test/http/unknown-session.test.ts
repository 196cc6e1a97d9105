// Black-box regression tests of issue 10 item 4: in HS256 mode (every service holding SECRET_KEY
// can sign) a validly signed access token whose `sid` named no session answered 200 on /users/me.
// Access tokens are now accepted only for sessions that exist, are live and belong to the token's
// `sub`, from an in-memory cache of live session ids filled on demand and emptied by revocations.
// On the old code every forged token below answered 200.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { claimsOf, headerOf, wait } from '../support/fixtures.ts';
import { type Answer, type Client, client, registerAndLogin } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer, testClock } from '../support/server.ts';
import { hs256 } from './forge.ts';

const SECRET = 'an-hs256-secret-shared-with-other-services-0123456789';
const POLL_MS = 100;
const ENV = {
  ALGORITHM: 'HS256',
  SECRET_KEY: SECRET,
  ACCESS_TOKEN_EXPIRE_MINUTES: '1',
  REVOCATION_POLL_MS: String(POLL_MS),
};

/** A token signed with the real secret: a real token's header and claims with `changes`. */
function forge(real: string, changes: Record<string, unknown>, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  return hs256(SECRET, headerOf(real), {
    ...claimsOf(real),
    iat,
    exp: iat + 60,
    jti: randomUUID(),
    ...changes,
  });
}

function assertInvalidToken(answer: Answer, what: string): void {
  assert.equal(answer.status, 401, `${what}: ${answer.text}`);
  assert.match(answer.headers.get('www-authenticate') ?? '', /error="invalid_token"/, what);
}

for (const db of testDatabases()) {
  describe(`access tokens of sessions the server never issued, on ${db}`, () => {
    let a: TestServer;
    let b: TestServer;
    let apiA: Client;
    let apiB: Client;
    // One frozen clock for both instances: the last test moves it past every token's lifetime.
    const clock = testClock();
    before(async () => {
      a = await startServer({ db, env: ENV, clock });
      b = await startServer({
        env: ENV,
        clock,
        reuse: { dataDir: a.dataDir, databaseUrl: a.databaseUrl },
      });
      apiA = client(a.url);
      apiB = client(b.url);
    });
    after(async () => {
      await b.close();
      await a.close();
    });

    it('a validly signed HS256 token with an unknown sid answered 200 on /users/me: 401 invalid_token', async () => {
      const user = await registerAndLogin(apiA, 'nosession');
      const forged = forge(user.tokens.access_token, { sid: randomUUID() }, clock());
      for (const [name, api] of [
        ['A', apiA],
        ['B', apiB],
      ] as const) {
        assertInvalidToken(await api.get('/users/me', { token: forged }), `forged on ${name}`);
        // Asked again (now a remembered unknown): still refused.
        assertInvalidToken(await api.get('/users/me', { token: forged }), `again on ${name}`);
        const real = await api.get('/users/me', { token: user.tokens.access_token });
        assert.equal(real.status, 200, `the real token on ${name}: ${real.text}`);
        assert.equal(real.body.id, user.id);
      }
    });

    it('POST /revoke with a validly signed token of an unknown sid wrote a revocation and an audit entry: nothing is written', async () => {
      const user = await registerAndLogin(apiA, 'revokeforged');
      const store = a.app.services.store;
      const before = (await store.revocations.listActive(clock())).length;
      const sids = Array.from({ length: 5 }, () => randomUUID());
      for (const sid of sids) {
        const forged = forge(user.tokens.access_token, { sid }, clock());
        const answer = await apiA.post('/revoke', { token: forged }, { form: true });
        assert.equal(answer.status, 200, answer.text);
      }
      assert.equal((await store.revocations.listActive(clock())).length, before);
      const entries = await store.audit.list({ limit: 1000 });
      const named = entries.filter((e) => sids.some((sid) => e.details.includes(sid)));
      assert.deepEqual(named, []);
      // The real session still works, and revoking its own token still ends it.
      assert.equal((await apiA.get('/users/me', { token: user.tokens.access_token })).status, 200);
      const revoked = await apiA.post(
        '/revoke',
        { token: user.tokens.access_token },
        { form: true },
      );
      assert.equal(revoked.status, 200);
      assertInvalidToken(
        await apiA.get('/users/me', { token: user.tokens.access_token }),
        'after revoke',
      );
    });

    it('a validly signed token naming another user’s real session was accepted: 401 invalid_token', async () => {
      const victim = await registerAndLogin(apiA, 'victim');
      const other = await registerAndLogin(apiA, 'other');
      const sid = claimsOf(victim.tokens.access_token).sid;
      // The other user's token, moved onto the victim's live session.
      const forged = forge(other.tokens.access_token, { sid }, clock());
      assertInvalidToken(await apiA.get('/users/me', { token: forged }), 'on A (issuer)');
      assertInvalidToken(await apiB.get('/users/me', { token: forged }), 'on B');
      assert.equal(
        (await apiB.get('/users/me', { token: victim.tokens.access_token })).status,
        200,
      );
    });

    it('a real session’s token works on an instance that did not issue it, a refreshed one too', async () => {
      const user = await registerAndLogin(apiA, 'roaming');
      assert.equal((await apiB.get('/users/me', { token: user.tokens.access_token })).status, 200);
      const refreshed = await apiB.post(
        '/token',
        { grant_type: 'refresh_token', refresh_token: user.tokens.refresh_token },
        { form: true },
      );
      assert.equal(refreshed.status, 200, refreshed.text);
      const token = String(refreshed.body.access_token);
      assert.equal((await apiA.get('/users/me', { token })).status, 200);
      assert.equal((await apiB.get('/users/me', { token })).status, 200);
    });

    it('after logout on A, tokens forged for the ended session were accepted once the deny-list entry expired: 401 on A and B', async () => {
      const user = await registerAndLogin(apiA, 'loggedout');
      const token = user.tokens.access_token;
      // Both instances know the session as live before it ends.
      assert.equal((await apiA.get('/users/me', { token })).status, 200);
      assert.equal((await apiB.get('/users/me', { token })).status, 200);
      const out = await apiA.post('/logout', undefined, { token });
      assert.equal(out.status, 204, out.text);
      await wait(POLL_MS * 5); // B's poll brings the revocation
      assertInvalidToken(await apiA.get('/users/me', { token }), 'the real token on A');
      assertInvalidToken(await apiB.get('/users/me', { token }), 'the real token on B');
      // Past every token's lifetime and the deny-list's margin, so only the session itself can say.
      clock.advance(5 * 60_000);
      await wait(POLL_MS * 5); // the polls prune the expired deny-list entries
      const forged = forge(token, {}, clock());
      assertInvalidToken(await apiA.get('/users/me', { token: forged }), 'forged on A');
      assertInvalidToken(await apiB.get('/users/me', { token: forged }), 'forged on B');
    });
  });
}
