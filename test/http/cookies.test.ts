// Black-box: the cookie mode of the web pages (SPEC §4) over plain HTTP, on each database: the
// cookies and their attributes, refresh and its grace window, logout, and the access cookie as a
// credential wherever a bearer token is accepted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ACCESS,
  type BrowserSession,
  CookieJar,
  CSRF,
  cookieLogin,
  REFRESH,
  setCookiesOf,
  withCookies,
} from '../support/cookies.ts';
import { superuser } from '../support/fixtures.ts';
import { type Client, client, newIdentity } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { base32Decode, totp } from '../support/totp.ts';

type Problem = { status: number; code: string; detail: string };
type Login = { user: { username: string }; csrf_token: string; expires_in: number; code?: string };

for (const db of testDatabases()) {
  describe(`cookie mode on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    before(async () => {
      server = await startServer({ db });
      api = client(server.url);
    });
    after(() => server.close());

    async function account(): Promise<{ username: string; email: string; password: string }> {
      const who = newIdentity('cookie');
      assert.equal((await api.post('/register', who)).status, 201);
      return who;
    }

    const me = (jar: CookieJar) => api.get<{ username: string }>('/users/me', withCookies(jar));
    const refresh = (s: BrowserSession, path = '/session/refresh') =>
      api.post<Login>(path, undefined, withCookies(s.jar, s.csrf));

    it('POST /login sets HttpOnly, Secure, SameSite=Strict __Host- cookies and a readable CSRF cookie', async () => {
      const who = await account();
      const answer = await api.post<Login>('/login', {
        username: who.email,
        password: who.password,
      });
      assert.equal(answer.status, 200);
      assert.deepEqual(Object.keys(answer.body).sort(), ['csrf_token', 'expires_in', 'user']);
      assert.equal(answer.body.user.username, who.username);
      assert.equal(answer.body.expires_in, server.config.accessTokenTtlSeconds);
      assert.equal(answer.headers.get('cache-control'), 'no-store');
      const cookies = new Map(setCookiesOf(answer).map((c) => [c.name, c]));
      assert.deepEqual([...cookies.keys()].sort(), [ACCESS, CSRF, REFRESH].sort());
      for (const c of cookies.values()) {
        assert.ok(c.name.startsWith('__Host-'));
        assert.equal(c.attributes.path, '/');
        assert.equal(c.attributes.secure, '');
        assert.equal(c.attributes.samesite, 'Strict');
        assert.equal(c.attributes.domain, undefined, '__Host- cookies are host-only');
        assert.ok(c.name.length + c.value.length < 4096);
      }
      assert.equal(cookies.get(ACCESS)?.attributes.httponly, '');
      assert.equal(cookies.get(REFRESH)?.attributes.httponly, '');
      assert.equal(cookies.get(CSRF)?.attributes.httponly, undefined, 'the pages read it');
      assert.equal(cookies.get(CSRF)?.value, answer.body.csrf_token);
      assert.equal(cookies.get(ACCESS)?.attributes['max-age'], String(answer.body.expires_in));
      assert.equal(
        cookies.get(REFRESH)?.attributes['max-age'],
        String(server.config.refreshTokenTtlSeconds),
      );
      assert.ok(!answer.text.includes(cookies.get(REFRESH)?.value ?? '-'), 'no token in the body');
    });

    it('answers bad credentials like /token does, and sets no cookie', async () => {
      const who = await account();
      for (const username of [who.username, 'nobody-here']) {
        const answer = await api.post<Problem>('/login', { username, password: 'wrong password!' });
        assert.equal(answer.status, 400);
        assert.equal(answer.body.code, 'invalid_grant');
        assert.equal(answer.body.detail, 'Incorrect username or password.');
        assert.deepEqual(answer.headers.getSetCookie(), []);
      }
      const missing = await api.post<Problem>('/login', { username: who.username });
      assert.equal(missing.status, 422);
    });

    it('asks a 2FA account for its code (mfa_required, no cookie), then signs it in with the code', async () => {
      const who = await account();
      const token = (await api.post<{ access_token: string }>('/token', who, { form: true })).body
        .access_token;
      const enrol = await api.post<{ secret: string }>('/users/me/totp', undefined, { token });
      const code = (ms: number) => totp(base32Decode(enrol.body.secret), ms);
      const confirm = await api.post(
        '/users/me/totp/confirm',
        { code: code(server.clock()) },
        { token },
      );
      assert.equal(confirm.status, 200, confirm.text);
      server.clock.advance(30_000);
      const first = await api.post<Problem>('/login', {
        username: who.username,
        password: who.password,
      });
      assert.equal(first.status, 400);
      assert.equal(first.body.code, 'mfa_required');
      assert.deepEqual(first.headers.getSetCookie(), []);
      const wrong = await api.post<Problem>('/login', { ...who, otp: '12345x' });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.code, 'invalid_otp');
      assert.deepEqual(wrong.headers.getSetCookie(), []);
      const right = await api.post<Login>('/login', {
        username: who.username,
        password: who.password,
        otp: code(server.clock()),
      });
      assert.equal(right.status, 200, right.text);
      assert.equal(right.body.user.username, who.username);
      assert.equal(setCookiesOf(right).length, 3);
    });

    it('the access cookie authenticates every protected route, reads without a CSRF token', async () => {
      const who = await account();
      const s = await cookieLogin(api, who.username, who.password);
      assert.equal((await me(s.jar)).body.username, who.username);
      assert.equal((await api.get(`/users/${who.username}`, withCookies(s.jar))).status, 200);
      const sessions = await api.get<Array<{ current: boolean }>>(
        '/users/me/sessions',
        withCookies(s.jar),
      );
      assert.equal(sessions.body.filter((x) => x.current).length, 1);
      const garbage = new CookieJar();
      garbage.values.set(ACCESS, 'not.a.jwt');
      const bad = await me(garbage);
      assert.equal(bad.status, 401);
      assert.match(bad.headers.get('www-authenticate') ?? '', /invalid_token/);
      assert.equal((await me(new CookieJar())).status, 401);
    });

    it('POST /session/refresh rotates the refresh cookie and keeps the CSRF token', async () => {
      const who = await account();
      const s = await cookieLogin(api, who.username, who.password);
      const oldRefresh = s.jar.get(REFRESH);
      const answer = await refresh(s);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.csrf_token, s.csrf, 'stable for the session, so other tabs keep it');
      assert.equal(answer.headers.get('cache-control'), 'no-store');
      s.jar.take(answer);
      assert.notEqual(s.jar.get(REFRESH), oldRefresh);
      assert.equal((await me(s.jar)).status, 200);
      // Without the refresh cookie there is nothing to refresh.
      const none = await api.post<Problem>('/session/refresh', undefined, { headers: {} });
      assert.equal(none.status, 401);
    });

    it('two tabs refreshing at once both stay signed in (grace window); a late reuse ends the session', async () => {
      const who = await account();
      const s = await cookieLogin(api, who.username, who.password);
      const [a, b] = await Promise.all([refresh(s), refresh(s)]);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      const tabA = s.jar.clone().take(a);
      const tabB = s.jar.clone().take(b);
      assert.equal(tabA.get(REFRESH), tabB.get(REFRESH), 'one successor for both');
      assert.equal((await me(tabA)).status, 200);
      assert.equal((await me(tabB)).status, 200);
      // The same spent cookie presented after the grace window is a stolen one: the session ends.
      server.clock.advance((server.config.refreshReuseGraceSeconds + 1) * 1000);
      const late = await refresh(s);
      assert.equal(late.status, 401);
      assert.equal(late.body.code, 'invalid_grant');
      const cleared = setCookiesOf(late);
      assert.deepEqual(cleared.map((c) => c.name).sort(), [ACCESS, CSRF, REFRESH].sort());
      assert.ok(cleared.every((c) => c.attributes['max-age'] === '0'));
      const next = await refresh({ ...s, jar: tabA });
      assert.equal(next.status, 401, 'the successor died with the session');
    });

    it('an expired access cookie is replaced by a refresh', async () => {
      const who = await account();
      const s = await cookieLogin(api, who.username, who.password);
      server.clock.advance((server.config.accessTokenTtlSeconds + 10) * 1000);
      assert.equal((await me(s.jar)).status, 401);
      const answer = await refresh(s);
      assert.equal(answer.status, 200);
      assert.equal((await me(s.jar.take(answer))).status, 200);
    });

    it('POST /refresh takes the refresh cookie when the body has no token', async () => {
      const who = await account();
      const s = await cookieLogin(api, who.username, who.password);
      const answer = await refresh(s, '/refresh');
      assert.equal(answer.status, 200);
      assert.deepEqual(Object.keys(answer.body).sort(), ['csrf_token', 'expires_in', 'user']);
      assert.equal((await me(s.jar.take(answer))).status, 200);
      const noCsrf = await api.post<Problem>('/refresh', undefined, withCookies(s.jar));
      assert.equal(noCsrf.status, 403);
      const nothing = await api.post<Problem>('/refresh', undefined);
      assert.equal(nothing.status, 400, 'no cookie and no body token');
    });

    it('POST /logout ends the session and clears the cookies with their attributes', async () => {
      const who = await account();
      const s = await cookieLogin(api, who.username, who.password);
      const stale = s.jar.clone();
      const answer = await api.post('/logout', undefined, withCookies(s.jar, s.csrf));
      assert.equal(answer.status, 204);
      const cleared = setCookiesOf(answer);
      assert.deepEqual(cleared.map((c) => c.name).sort(), [ACCESS, CSRF, REFRESH].sort());
      for (const c of cleared) {
        assert.equal(c.attributes['max-age'], '0');
        assert.equal(c.attributes.path, '/');
        assert.equal(c.attributes.secure, '');
      }
      assert.equal((await me(stale)).status, 401, 'the access cookie died with the session');
      assert.equal((await refresh({ ...s, jar: stale })).status, 401);
    });

    it('a bearer logout leaves the browser cookies alone', async () => {
      const who = await account();
      const s = await cookieLogin(api, who.username, who.password);
      const tokens = await api.post<{ access_token: string }>('/token', who, { form: true });
      const answer = await api.post('/logout', undefined, { token: tokens.body.access_token });
      assert.equal(answer.status, 204);
      assert.deepEqual(answer.headers.getSetCookie(), []);
      assert.equal((await me(s.jar)).status, 200, 'the cookie session is another session');
    });

    it('signing in again from the same browser ends the session its old cookies belonged to', async () => {
      const who = await account();
      const first = await cookieLogin(api, who.username, who.password);
      const again = await api.post<Login>('/login', who, withCookies(first.jar));
      assert.equal(again.status, 200);
      assert.notEqual(again.body.csrf_token, first.csrf, 'a new session gets a new CSRF token');
      assert.equal((await me(first.jar)).status, 401);
      assert.equal((await me(first.jar.clone().take(again))).status, 200);
    });

    it('DELETE /users/me through the cookie clears the cookies', async () => {
      const who = await account();
      const s = await cookieLogin(api, who.username, who.password);
      const answer = await api.del(
        '/users/me',
        { password: who.password },
        withCookies(s.jar, s.csrf),
      );
      assert.equal(answer.status, 204);
      assert.ok(setCookiesOf(answer).every((c) => c.attributes['max-age'] === '0'));
      assert.equal(setCookiesOf(answer).length, 3);
    });

    it('deactivation by an administrator ends cookie sessions at once', async () => {
      const admin = await superuser(server, api);
      const who = await account();
      const s = await cookieLogin(api, who.username, who.password);
      const patch = await api.patch(
        `/admin/users/${s.user.id}`,
        { is_active: false },
        { token: admin.tokens.access_token },
      );
      assert.equal(patch.status, 200);
      assert.equal((await me(s.jar)).status, 401);
      const answer = await refresh(s);
      assert.equal(answer.status, 401);
      assert.equal(answer.body.code, 'invalid_grant');
    });

    it('hostile cookie headers get a 4xx, never a 5xx', async () => {
      const headers = [
        `${ACCESS}=%E0%A4%A`,
        `${ACCESS}="unterminated`,
        `${ACCESS}=${'a'.repeat(8000)}`,
        `${ACCESS}=a.b.c; ${ACCESS}=x.y.z`,
        `=; ;;; ${REFRESH}`,
        `${REFRESH}=${'A'.repeat(43)}; ${CSRF}=x`,
      ];
      for (const cookie of headers) {
        for (const [method, path] of [
          ['GET', '/users/me'],
          ['POST', '/session/refresh'],
          ['POST', '/refresh'],
          ['POST', '/logout'],
        ] as const) {
          const answer = await api.request(method, path, undefined, {
            headers: { cookie, 'x-csrf-token': 'x' },
          });
          assert.ok(
            answer.status >= 400 && answer.status < 500,
            `${method} ${path} ${cookie.slice(0, 40)}: ${answer.status}`,
          );
        }
      }
    });
  });
}

for (const db of testDatabases()) {
  describe(`DELETE /admin/users/{id}/sessions and POST /password/check on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    before(async () => {
      server = await startServer({ db });
      api = client(server.url);
    });
    after(() => server.close());

    it('ends every session of a user: cookie and bearer tokens stop working at once', async () => {
      const admin = await superuser(server, api);
      const who = newIdentity('victim');
      const created = await api.post<{ id: string }>('/register', who);
      const browser = await cookieLogin(api, who.username, who.password);
      const tokens = await api.post<{ access_token: string; refresh_token: string }>(
        '/token',
        who,
        { form: true },
      );
      const path = `/admin/users/${created.body.id}/sessions`;
      const token = admin.tokens.access_token;
      assert.equal(
        (await api.del(path, undefined, { token: tokens.body.access_token })).status,
        403,
      );
      assert.equal((await api.del(path)).status, 401);
      assert.equal((await api.del(path, undefined, { token })).status, 204);
      assert.equal((await api.get('/users/me', withCookies(browser.jar))).status, 401);
      assert.equal((await api.get('/users/me', { token: tokens.body.access_token })).status, 401);
      const spent = await api.post('/refresh', { refresh_token: tokens.body.refresh_token });
      assert.equal(spent.status, 401);
      // The user can sign in again: the sessions ended, the account did not.
      assert.equal(
        (await cookieLogin(api, who.username, who.password)).user.username,
        who.username,
      );
      const unknown = await api.del(
        '/admin/users/00000000-0000-7000-8000-000000000000/sessions',
        undefined,
        { token },
      );
      assert.equal(unknown.status, 404);
      // The admin's own session is untouched.
      assert.equal((await api.get('/users/me', { token })).status, 200);
    });

    it('POST /password/check explains the policy without storing anything', async () => {
      const check = (body: Record<string, string>) =>
        api.post<{
          acceptable: boolean;
          reasons: string[];
          messages: string[];
          min_length: number;
        }>('/password/check', body);
      const short = await check({ password: 'abc' });
      assert.deepEqual(short.body.reasons, ['too_short']);
      assert.equal(short.body.min_length, server.config.passwordMinLength);
      assert.equal(short.headers.get('cache-control'), 'no-store');
      assert.deepEqual((await check({ password: 'password1' })).body.reasons, ['common']);
      const same = await check({ password: 'alice-the-great', username: 'Alice-The-Great' });
      assert.deepEqual(same.body.reasons, ['matches_username']);
      const good = await check({ password: 'correct horse battery staple' });
      assert.equal(good.body.acceptable, true);
      assert.deepEqual(good.body.messages, []);
      assert.equal((await api.post('/password/check', {})).status, 422);
    });
  });
}

for (const db of testDatabases()) {
  describe(`POST /login under lockout and rate limits on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    before(async () => {
      server = await startServer({
        db,
        env: { LOCKOUT_THRESHOLD: '2', LOCKOUT_BASE_SECONDS: '30', RATE_LIMIT_LOGIN: '8/1m' },
      });
      api = client(server.url);
    });
    after(() => server.close());

    it('slows an account down like /token does, with Retry-After, the right password too', async () => {
      const who = newIdentity('slow');
      assert.equal((await api.post('/register', who)).status, 201);
      for (const attempt of [1, 2]) {
        const answer = await api.post<Problem>('/login', { ...who, password: `bad ${attempt}` });
        assert.equal(answer.status, 400);
      }
      const locked = await api.post<Problem>('/login', who);
      assert.equal(locked.status, 429);
      assert.equal(locked.body.code, 'too_many_attempts');
      assert.match(locked.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(locked.headers.get('retry-after'), '30');
      assert.deepEqual(locked.headers.getSetCookie(), [], 'no session while slowed down');
      server.clock.advance(31_000);
      assert.equal((await api.post('/login', who)).status, 200);
    });

    it('counts sign-ins per address: RateLimit headers, then 429 rate_limited', async () => {
      server.clock.advance(60_000);
      let last = await api.post<Problem>('/login', { username: 'nobody', password: 'x' });
      assert.ok(last.headers.get('ratelimit-limit'));
      for (let i = 0; i < 10 && last.status !== 429; i += 1) {
        last = await api.post<Problem>('/login', { username: `nobody${i}`, password: 'x' });
      }
      assert.equal(last.status, 429);
      assert.equal(last.body.code, 'rate_limited');
      assert.ok(Number(last.headers.get('retry-after')) > 0);
    });
  });
}
