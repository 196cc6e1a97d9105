// Black-box: CSRF protection of cookie-authenticated requests, over plain HTTP, on each database.
// Every refused request is checked to have changed nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type BrowserSession,
  CSRF,
  cookieLogin,
  REFRESH,
  withCookies,
} from '../support/cookies.ts';
import { type Client, client, newIdentity } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

type Problem = { status: number; code: string; detail: string };

for (const db of testDatabases()) {
  describe(`CSRF on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    before(async () => {
      server = await startServer({ db });
      api = client(server.url);
    });
    after(() => server.close());

    async function newSession(): Promise<
      BrowserSession & { username: string; email: string; password: string }
    > {
      const who = newIdentity('csrf');
      assert.equal((await api.post('/register', who)).status, 201);
      return { ...(await cookieLogin(api, who.username, who.password)), ...who };
    }

    async function emailOf(session: BrowserSession): Promise<string> {
      const me = await api.get<{ email: string }>('/users/me', withCookies(session.jar));
      assert.equal(me.status, 200);
      return me.body.email;
    }

    async function refused(
      session: BrowserSession,
      send: () => Promise<{ status: number; body: Problem }>,
      status = 403,
      code = 'csrf_failed',
    ): Promise<void> {
      const before = await emailOf(session);
      const answer = await send();
      assert.equal(answer.status, status, JSON.stringify(answer.body));
      assert.equal(answer.body.code, code);
      assert.equal(await emailOf(session), before, 'the refused request changed nothing');
    }

    const patch = (session: BrowserSession, csrf: string | undefined, extra = {}) =>
      api.patch<Problem>(
        '/users/me',
        { email: newIdentity('changed').email },
        withCookies(session.jar, csrf, extra),
      );

    it('reads need no token: GET with the access cookie alone', async () => {
      const alice = await newSession();
      assert.equal(
        (await api.get('/users/me/sessions', withCookies(alice.jar))).status,
        200,
        'safe methods are not state changes',
      );
    });

    it('refuses a state change without X-CSRF-Token', async () => {
      const alice = await newSession();
      await refused(alice, () => patch(alice, undefined));
    });

    it('refuses a wrong token', async () => {
      const alice = await newSession();
      const wrong = `${alice.csrf.slice(0, -2)}${alice.csrf.endsWith('AA') ? 'BB' : 'AA'}`;
      await refused(alice, () => patch(alice, wrong));
      await refused(alice, () => patch(alice, 'not-a-token'));
      await refused(alice, () => patch(alice, 'x'.repeat(5000)));
    });

    it('refuses the token of another session, in the header or in header and cookie both', async () => {
      const alice = await newSession();
      const mallory = await newSession();
      // The attacker's own valid token in the header: it does not match the victim's CSRF cookie.
      await refused(alice, () => patch(alice, mallory.csrf));
      // Header and CSRF cookie both planted (cookie tossing): they match, but are bound to another session.
      const tossed = alice.jar.clone();
      tossed.values.set(CSRF, mallory.csrf);
      await refused(alice, () =>
        api.patch<Problem>(
          '/users/me',
          { email: newIdentity('x').email },
          withCookies(tossed, mallory.csrf),
        ),
      );
      // Alice's token from her earlier session does not serve her new one.
      const again = await cookieLogin(api, alice.username, alice.password);
      await refused(again, () => patch(again, alice.csrf));
    });

    it('refuses the token sent only in the body or the query', async () => {
      const alice = await newSession();
      await refused(alice, () =>
        api.patch<Problem>(
          `/users/me?csrf_token=${alice.csrf}`,
          { email: newIdentity('x').email, csrf_token: alice.csrf },
          withCookies(alice.jar),
        ),
      );
    });

    it('refuses a foreign Origin or a cross-site fetch even with the right token', async () => {
      const alice = await newSession();
      await refused(alice, () => patch(alice, alice.csrf, { origin: 'https://evil.example' }));
      await refused(alice, () => patch(alice, alice.csrf, { origin: 'null' }));
      await refused(alice, () => patch(alice, alice.csrf, { 'sec-fetch-site': 'cross-site' }));
    });

    it('answers a bogus bearer with 401 and never falls back to the cookie', async () => {
      const alice = await newSession();
      const bogus = { authorization: 'Bearer garbage' };
      await refused(alice, () => patch(alice, undefined, bogus), 401, 'invalid_token');
      await refused(alice, () => patch(alice, alice.csrf, bogus), 401, 'invalid_token');
      await refused(
        alice,
        () => patch(alice, alice.csrf, { authorization: 'Bearer' }),
        401,
        'invalid_token',
      );
    });

    it('takes Origin: null from a page of ours only when Fetch Metadata says same-origin', async () => {
      // Some browsers send `Origin: null` from same-origin pages under Referrer-Policy: no-referrer.
      const alice = await newSession();
      const email = newIdentity('nullorigin').email;
      const answer = await api.patch<{ email: string }>(
        '/users/me',
        { email },
        withCookies(alice.jar, alice.csrf, { origin: 'null', 'sec-fetch-site': 'same-origin' }),
      );
      assert.equal(answer.status, 200);
      await refused(alice, () =>
        patch(alice, alice.csrf, { origin: 'null', 'sec-fetch-site': 'same-site' }),
      );
    });

    it('passes the right token, from our own origin', async () => {
      const alice = await newSession();
      const email = newIdentity('ok').email;
      const answer = await api.patch<{ email: string }>(
        '/users/me',
        { email },
        withCookies(alice.jar, alice.csrf, {
          origin: new URL(server.url).origin,
          'sec-fetch-site': 'same-origin',
        }),
      );
      assert.equal(answer.status, 200);
      assert.equal(await emailOf(alice), email);
    });

    it('needs no token with a bearer token, even when cookies ride along', async () => {
      const alice = await newSession();
      const tokens = await api.post<{ access_token: string }>(
        '/token',
        { username: alice.username, password: alice.password },
        { form: true },
      );
      const email = newIdentity('bearer').email;
      const answer = await api.patch<{ email: string }>(
        '/users/me',
        { email },
        {
          headers: {
            cookie: alice.jar.header(),
            authorization: `Bearer ${tokens.body.access_token}`,
          },
        },
      );
      assert.equal(answer.status, 200);
      assert.equal(answer.body.email, email);
    });

    it('guards every cookie state change: logout, refresh, password, sessions, delete', async () => {
      const alice = await newSession();
      const sessions = await api.get<Array<{ id: string }>>(
        '/users/me/sessions',
        withCookies(alice.jar),
      );
      const sessionId = sessions.body[0]?.id ?? '';
      const attempts: Array<[string, string, unknown]> = [
        ['POST', '/logout', undefined],
        ['POST', '/session/refresh', undefined],
        ['POST', '/refresh', undefined],
        ['POST', '/users/me/password', { current_password: alice.password, new_password: 'x' }],
        ['DELETE', `/users/me/sessions/${sessionId}`, undefined],
        ['DELETE', '/users/me/sessions', undefined],
        ['DELETE', '/users/me', { password: alice.password }],
      ];
      for (const [method, path, body] of attempts) {
        for (const csrf of [undefined, 'wrong']) {
          const answer = await api.request<Problem>(
            method,
            path,
            body,
            withCookies(alice.jar, csrf),
          );
          assert.equal(answer.status, 403, `${method} ${path} with ${csrf ?? 'no'} token`);
          assert.equal(answer.body.code, 'csrf_failed');
          assert.deepEqual(answer.headers.getSetCookie(), [], 'no cookie is changed');
        }
      }
      // Everything still works with the right token: the refused calls ended nothing.
      const refreshed = await api.post(
        '/session/refresh',
        undefined,
        withCookies(alice.jar, alice.csrf),
      );
      assert.equal(refreshed.status, 200);
      assert.ok(alice.jar.get(REFRESH));
    });

    describe('POST /login (no session yet)', () => {
      it('refuses a cross-site login and any body that is not JSON', async () => {
        const who = newIdentity('loginx');
        assert.equal((await api.post('/register', who)).status, 201);
        const creds = { username: who.username, password: who.password };
        const foreign: Array<Record<string, string>> = [
          { origin: 'https://evil.example' },
          { 'sec-fetch-site': 'cross-site' },
        ];
        for (const headers of foreign) {
          const answer = await api.post<Problem>('/login', creds, { headers });
          assert.equal(answer.status, 403);
          assert.equal(answer.body.code, 'csrf_failed');
          assert.deepEqual(answer.headers.getSetCookie(), []);
        }
        const form = await api.post<Problem>('/login', creds, { form: true });
        assert.equal(form.status, 415, 'an HTML form post is not accepted');
        const text = await api.post<Problem>('/login', undefined, {
          raw: JSON.stringify(creds),
          headers: { 'content-type': 'text/plain' },
        });
        assert.equal(text.status, 415);
        assert.equal((await api.post('/login', creds)).status, 200);
      });
    });
  });
}
