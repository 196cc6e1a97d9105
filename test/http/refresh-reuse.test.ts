// Black-box regression tests of issue 10 item 1: a refresh token reused inside the grace window was
// accepted (200, new tokens) even after its successor had itself been used. The grace window is
// for two tabs that raced on one token where one never saw the answer; once the successor has been
// used, the racing tab did get its answer, so a reuse can only be a stolen copy. On SQLite and
// PostgreSQL + Redis; the clock is frozen, so every step lands inside the window.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Client, client, registerAndLogin, type TokenPair } from '../support/http.ts';
import { testBackends } from '../support/redis.ts';
import { startServer, type TestServer } from '../support/server.ts';

const refreshWith = (api: Client, token: string) =>
  api.post<TokenPair & { error?: string }>(
    '/token',
    { grant_type: 'refresh_token', refresh_token: token },
    { form: true },
  );

for (const backend of testBackends()) {
  describe(`refresh reuse inside the grace window on ${backend.name}`, () => {
    let server: TestServer;
    let api: Client;
    before(async () => {
      server = await startServer({
        db: backend.db,
        env: { ...backend.env(), REFRESH_REUSE_GRACE_SECONDS: '30' },
      });
      api = client(server.url);
    });
    after(() => server.close());

    it('a reuse after the successor was used was answered 200: 400 invalid_grant and the session ends', async () => {
      const who = await registerAndLogin(api, 'graceafter');
      const r1 = who.tokens.refresh_token;
      const second = await refreshWith(api, r1);
      assert.equal(second.status, 200);
      const third = await refreshWith(api, second.body.refresh_token);
      assert.equal(third.status, 200);
      server.clock.advance(2_000); // still well inside the 30 s window

      const reuse = await refreshWith(api, r1);
      assert.equal(reuse.status, 400, reuse.text);
      assert.equal(reuse.body.error, 'invalid_grant');
      assert.equal(reuse.body.access_token, undefined, 'no tokens for a stolen copy');

      // The whole session is over: the newest refresh token and its access token die with it.
      const latest = await refreshWith(api, third.body.refresh_token);
      assert.equal(latest.status, 400);
      assert.equal(latest.body.error, 'invalid_grant');
      const me = await api.get('/users/me', { token: third.body.access_token });
      assert.equal(me.status, 401);
      assert.match(me.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    });

    it('a reuse while the successor is unused (two tabs raced) still gets the same successor', async () => {
      const who = await registerAndLogin(api, 'graceraced');
      const r1 = who.tokens.refresh_token;
      const first = await refreshWith(api, r1);
      assert.equal(first.status, 200);
      server.clock.advance(2_000);
      const racer = await refreshWith(api, r1);
      assert.equal(racer.status, 200, racer.text);
      assert.equal(racer.body.refresh_token, first.body.refresh_token, 'the same successor');
      // The successor works once, for whichever tab uses it first.
      const next = await refreshWith(api, first.body.refresh_token);
      assert.equal(next.status, 200);
      const me = await api.get('/users/me', { token: next.body.access_token });
      assert.equal(me.status, 200);
    });

    it('a reuse after the window ends the session, as before', async () => {
      const who = await registerAndLogin(api, 'gracelate');
      const first = await refreshWith(api, who.tokens.refresh_token);
      assert.equal(first.status, 200);
      server.clock.advance(31_000);
      const reuse = await refreshWith(api, who.tokens.refresh_token);
      assert.equal(reuse.status, 400);
      assert.equal(reuse.body.error, 'invalid_grant');
      const latest = await refreshWith(api, first.body.refresh_token);
      assert.equal(latest.status, 400);
    });
  });
}
