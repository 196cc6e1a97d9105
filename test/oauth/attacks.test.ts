// RFC 9700 §4 attacks on the code flow, each answered as SPEC §8 says. Black-box HTTP against a real
// server: a browser's cookie session (POST /login) drives /authorize with redirects not followed.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CookieJar, cookieLogin, REFRESH } from '../support/cookies.ts';
import { claimsOf } from '../support/fixtures.ts';
import {
  makeUser,
  type OAuthWorld,
  oauthWorld,
  type RegisteredClient,
  registerClient,
} from '../support/oauth.ts';
import { testDatabases } from '../support/postgres.ts';

const CB = 'https://app.example/cb';

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

interface Raw {
  status: number;
  location: string | null;
  text: string;
  headers: Headers;
}

for (const db of testDatabases()) {
  describe(`attacks on the authorization code flow (RFC 9700 §4), on ${db}`, () => {
    let world: OAuthWorld;
    let app: RegisteredClient;
    let confidential: RegisteredClient;
    let jar: CookieJar;
    let alice: Awaited<ReturnType<typeof makeUser>>;

    /** GET /authorize?query with the browser's cookies, redirects not followed. */
    async function authorize(query: string | URLSearchParams, cookies = jar): Promise<Raw> {
      const response = await fetch(`${world.issuer}/authorize?${query.toString()}`, {
        redirect: 'manual',
        headers: { cookie: cookies.header() },
      });
      return {
        status: response.status,
        location: response.headers.get('location'),
        text: await response.text(),
        headers: response.headers,
      };
    }

    function params(extra: Record<string, string> = {}, client = app): URLSearchParams {
      return new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: CB,
        scope: 'openid read',
        state: 'xyz',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
        ...extra,
      });
    }

    /** A fresh code for `client` (first-party clients skip consent), with its verifier. */
    async function code(client = app, extra: Record<string, string> = {}) {
      const { verifier, challenge } = pkce();
      const answer = await authorize(params({ code_challenge: challenge, ...extra }, client));
      assert.equal(answer.status, 302, answer.text);
      const url = new URL(answer.location as string);
      const value = url.searchParams.get('code');
      assert.ok(value, `a code in ${answer.location}`);
      return { code: value, verifier };
    }

    function exchange(fields: Record<string, string>, client = app) {
      const auth: Record<string, string> =
        client.client_secret === undefined
          ? {}
          : {
              authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
            };
      return world.api.post<Record<string, string>>(
        '/token',
        {
          grant_type: 'authorization_code',
          redirect_uri: CB,
          ...(client.client_secret === undefined ? { client_id: client.client_id } : {}),
          ...fields,
        },
        { form: true, headers: auth },
      );
    }

    function assertErrorPage(answer: Raw, why: string): void {
      assert.equal(answer.status, 400, `${why}: ${answer.status} ${answer.location ?? ''}`);
      assert.equal(answer.location, null, `${why}: never a redirect`);
      assert.match(answer.headers.get('content-type') ?? '', /text\/html/);
    }

    function assertRedirectError(answer: Raw, error: string): URL {
      assert.equal(answer.status, 302, answer.text);
      const url = new URL(answer.location as string);
      assert.equal(`${url.origin}${url.pathname}`, CB);
      assert.equal(url.searchParams.get('error'), error, answer.location ?? '');
      assert.equal(url.searchParams.get('state'), 'xyz');
      assert.equal(url.searchParams.get('iss'), world.issuer);
      assert.equal(url.searchParams.get('code'), null);
      return url;
    }

    before(async () => {
      world = await oauthWorld(db);
      app = await registerClient(world, {
        name: 'First-party SPA',
        redirect_uris: [CB, 'http://127.0.0.1/native', 'http://[::1]:8080/native'],
        scope: 'openid profile email offline_access read',
        first_party: true,
      });
      confidential = await registerClient(world, {
        name: 'Web app',
        redirect_uris: [CB],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        scope: 'openid offline_access read',
        token_endpoint_auth_method: 'client_secret_basic',
        first_party: true,
      });
      alice = await makeUser(world, 'alice');
      jar = (await cookieLogin(world.api, alice.username, alice.password)).jar;
    });
    after(() => world?.close());

    it('the happy path works, so the refusals below mean something', async () => {
      const c = await code();
      const answer = await exchange({ code: c.code, code_verifier: c.verifier });
      assert.equal(answer.status, 200, answer.text);
      assert.ok(answer.body.id_token);
      assert.ok(answer.body.refresh_token, 'first-party: a refresh token');
    });

    it('redirect URIs that differ from a registered one in any way get an error page, never a redirect', async () => {
      const variants = [
        'https://app.example/cb/extra',
        'https://app.example/cb/../cb',
        'https://app.example/x/../cb',
        'https://app.example/cb;jsessionid=1',
        'https://app.example/cb?x=1',
        'https://app.example/cb/',
        'https://app.example/cb#frag',
        'https://app.example/CB',
        'https://APP.example/cb',
        'https://app.example@evil.example/cb',
        'https://evil.example@app.example/cb',
        'http://app.example/cb',
        'https://evil.example/cb',
        'https://app.example.evil.example/cb',
        'https://app.example:444/cb',
        'https://app.example:443/cb',
        'https://app.example/c',
        ' https://app.example/cb',
        'https://app.example/cb%00',
        'http://127.0.0.1:1234@evil.example/native',
        'http://127.0.0.1.evil.example/native',
        'http://localhost/native',
        'http://127.0.0.1:99/native/x',
        '',
      ];
      for (const uri of variants) {
        const query = params({ redirect_uri: uri });
        // An empty redirect_uri with several registered ones cannot be resolved either.
        assertErrorPage(await authorize(query), JSON.stringify(uri));
      }
    });

    it('a registered loopback IP URI matches on any port (RFC 8252 §7.3), with the same path', async () => {
      for (const uri of [
        'http://127.0.0.1:51234/native',
        'http://[::1]:9/native',
        'http://127.0.0.1/native',
      ]) {
        const answer = await authorize(params({ redirect_uri: uri }));
        assert.equal(answer.status, 302, `${uri}: ${answer.text.slice(0, 200)}`);
        assert.ok(answer.location?.startsWith(`${uri}?`), answer.location ?? '');
      }
    });

    it('a duplicated parameter gets an error page (GET and POST)', async () => {
      for (const name of ['client_id', 'redirect_uri', 'state', 'scope', 'code_challenge']) {
        const query = params();
        query.append(name, query.get(name) ?? 'x');
        assertErrorPage(await authorize(query), name);
      }
      const response = await fetch(`${world.issuer}/authorize`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
        body: `${params().toString()}&client_id=${app.client_id}`,
      });
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('location'), null);
    });

    it('an unknown or missing client gets an error page', async () => {
      assertErrorPage(await authorize(params({ client_id: 'nope' })), 'unknown');
      const query = params();
      query.delete('client_id');
      assertErrorPage(await authorize(query), 'missing');
      // Checked first, signed in or not.
      assertErrorPage(
        await authorize(params({ client_id: 'nope' }), new CookieJar()),
        'signed out',
      );
      assertErrorPage(
        await authorize(params({ redirect_uri: 'https://evil.example/' }), new CookieJar()),
        'signed out, bad redirect',
      );
    });

    it('PKCE is required and S256 only: a missing challenge, plain, or a malformed one → invalid_request', async () => {
      const without = params();
      without.delete('code_challenge');
      assertRedirectError(await authorize(without), 'invalid_request');
      const noMethod = params();
      noMethod.delete('code_challenge_method');
      assertRedirectError(await authorize(noMethod), 'invalid_request');
      assertRedirectError(
        await authorize(params({ code_challenge_method: 'plain' })),
        'invalid_request',
      );
      assertRedirectError(await authorize(params({ code_challenge: 'short' })), 'invalid_request');
    });

    it('implicit and hybrid response types are refused; response_type is required', async () => {
      for (const type of [
        'token',
        'id_token',
        'code id_token',
        'code token',
        'id_token token',
        'none',
      ]) {
        assertRedirectError(
          await authorize(params({ response_type: type })),
          'unsupported_response_type',
        );
      }
      const none = params();
      none.delete('response_type');
      assertRedirectError(await authorize(none), 'invalid_request');
    });

    it('scopes beyond the client’s or the user’s → invalid_scope', async () => {
      assertRedirectError(await authorize(params({ scope: 'openid write' })), 'invalid_scope');
      assertRedirectError(await authorize(params({ scope: 'openid admin' })), 'invalid_scope');
      assertRedirectError(await authorize(params({ scope: 'openid bogus' })), 'invalid_scope');
    });

    it('prompt=none without a session → login_required; without consent → consent_required', async () => {
      assertRedirectError(
        await authorize(params({ prompt: 'none' }), new CookieJar()),
        'login_required',
      );
      const thirdParty = await registerClient(world, {
        name: 'Third party',
        redirect_uris: [CB],
        scope: 'openid read',
      });
      assertRedirectError(
        await authorize(params({ prompt: 'none' }, thirdParty)),
        'consent_required',
      );
      // Without prompt=none: the consent page (200, HTML), not a redirect.
      const page = await authorize(params({}, thirdParty));
      assert.equal(page.status, 200);
      assert.match(page.text, /Third party/);
    });

    it('signed out, /authorize goes to the sign-in page and back to the same request', async () => {
      const query = params();
      const answer = await authorize(query, new CookieJar());
      assert.equal(answer.status, 302);
      const login = new URL(answer.location as string, world.issuer);
      assert.equal(login.pathname, '/login');
      const next = login.searchParams.get('next') ?? '';
      assert.ok(next.startsWith('/authorize?'), next);
      assert.equal(
        new URLSearchParams(next.split('?')[1]).get('code_challenge'),
        query.get('code_challenge'),
      );
      // prompt=login: back to the sign-in page even when signed in, and asked only once.
      const again = await authorize(params({ prompt: 'login' }));
      const reauth = new URL(again.location as string, world.issuer);
      assert.equal(reauth.pathname, '/login');
      assert.equal(reauth.searchParams.get('reauth'), '1');
      assert.ok(!(reauth.searchParams.get('next') ?? '').includes('prompt='));
      // max_age=0 after a sign-in some time ago: a fresh password.
      world.server.clock.advance(2_000);
      const stale = await authorize(params({ max_age: '1' }));
      assert.equal(new URL(stale.location as string, world.issuer).pathname, '/login');
    });

    it('code exchange failures are invalid_grant: verifier missing, wrong, or sent without a challenge; another client’s code; another redirect URI; an expired code', async () => {
      const expectGrant = async (fields: Record<string, string>, client = app, why = '') => {
        const answer = await exchange(fields, client);
        assert.equal(answer.status, 400, `${why}: ${answer.text}`);
        assert.equal(answer.body.error, 'invalid_grant', why);
      };
      const a = await code();
      await expectGrant({ code: a.code }, app, 'no verifier');
      await expectGrant({ code: a.code, code_verifier: pkce().verifier }, app, 'wrong verifier');
      await expectGrant({ code: a.code, code_verifier: 'short' }, app, 'malformed verifier');
      await expectGrant(
        { code: a.code, code_verifier: a.verifier, redirect_uri: 'https://app.example/other' },
        app,
        'other redirect',
      );
      await expectGrant(
        { code: a.code, code_verifier: a.verifier },
        confidential,
        'another client',
      );
      // None of those spent it: the rightful exchange still works.
      assert.equal((await exchange({ code: a.code, code_verifier: a.verifier })).status, 200);
      // The redirect_uri must be omitted at /token when it was omitted at /authorize (and vice versa).
      const single = await registerClient(world, {
        name: 'One URI',
        redirect_uris: [CB],
        scope: 'openid read',
        first_party: true,
      });
      const b = await code(single, { redirect_uri: '' });
      await expectGrant(
        { code: b.code, code_verifier: b.verifier },
        single,
        'redirect_uri not sent to /authorize',
      );
      const c = await code();
      world.server.clock.advance(61_000);
      await expectGrant({ code: c.code, code_verifier: c.verifier }, app, 'expired');
      await expectGrant({ code: 'garbage', code_verifier: c.verifier }, app, 'unknown code');
    });

    it('a replayed code → invalid_grant, and the first exchange’s tokens die at once', async () => {
      const c = await code();
      const first = await exchange({ code: c.code, code_verifier: c.verifier });
      assert.equal(first.status, 200);
      assert.equal(
        (await world.api.get('/users/me', { token: first.body.access_token })).status,
        200,
      );
      const replay = await exchange({ code: c.code, code_verifier: c.verifier });
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error, 'invalid_grant');
      assert.equal(
        (await world.api.get('/users/me', { token: first.body.access_token })).status,
        401,
      );
      const refreshed = await world.api.post(
        '/token',
        {
          grant_type: 'refresh_token',
          refresh_token: first.body.refresh_token as string,
          client_id: app.client_id,
        },
        { form: true },
      );
      assert.equal(refreshed.body.error, 'invalid_grant');
    });

    it('two exchanges of one code at the same moment: one wins, and then both are dead', async () => {
      for (let round = 0; round < 3; round++) {
        const c = await code();
        const answers = await Promise.all(
          Array.from({ length: 4 }, () => exchange({ code: c.code, code_verifier: c.verifier })),
        );
        const won = answers.filter((x) => x.status === 200);
        assert.equal(won.length, 1, answers.map((x) => x.status).join(','));
        const winner = won[0]?.body.access_token as string;
        assert.equal(
          (await world.api.get('/users/me', { token: winner })).status,
          401,
          'replay revoked the winner',
        );
      }
    });

    it('Deny → access_denied; the consent form needs its CSRF token and our origin, and cannot be framed', async () => {
      const thirdParty = await registerClient(world, {
        name: 'Needs consent',
        redirect_uris: [CB],
        scope: 'openid read',
      });
      const query = params({}, thirdParty);
      const page = await authorize(query);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(page.headers.get('x-frame-options'), 'DENY');
      const token = /name="csrf_token" value="([^"]+)"/.exec(page.text)?.[1];
      assert.ok(token, 'the form carries a CSRF token');
      const post = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
        fetch(`${world.issuer}/authorize/decision`, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            cookie: jar.header(),
            'content-type': 'application/x-www-form-urlencoded',
            origin: world.issuer,
            ...headers,
          },
          body: new URLSearchParams({ ...Object.fromEntries(query), ...fields }).toString(),
        });
      const noToken = await post({ decision: 'allow' });
      assert.equal(noToken.status, 400);
      assert.equal(noToken.headers.get('location'), null);
      const forged = await post({
        decision: 'allow',
        csrf_token: `${'A'.repeat(22)}.${'B'.repeat(43)}`,
      });
      assert.equal(forged.status, 400);
      const crossSite = await post(
        { decision: 'allow', csrf_token: token },
        { origin: 'https://evil.example' },
      );
      assert.equal(crossSite.status, 400);
      const fetchMeta = await post(
        { decision: 'allow', csrf_token: token },
        { 'sec-fetch-site': 'cross-site' },
      );
      assert.equal(fetchMeta.status, 400);
      // None of them consented: prompt=none still needs consent.
      assertRedirectError(
        await authorize(params({ prompt: 'none' }, thirdParty)),
        'consent_required',
      );
      const denied = await post({ decision: 'deny', csrf_token: token });
      assert.equal(denied.status, 302);
      const url = new URL(denied.headers.get('location') as string);
      assert.equal(url.searchParams.get('error'), 'access_denied');
      assert.equal(url.searchParams.get('state'), 'xyz');
      const allowed = await post({ decision: 'allow', csrf_token: token });
      assert.ok(new URL(allowed.headers.get('location') as string).searchParams.get('code'));
    });

    it('client authentication: a wrong secret → 401 invalid_client; public clients cannot use client_credentials', async () => {
      const wrong = await world.api.post(
        '/token',
        { grant_type: 'client_credentials' },
        {
          form: true,
          headers: {
            authorization: `Basic ${Buffer.from(`${confidential.client_id}:wrong`).toString('base64')}`,
          },
        },
      );
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error, 'invalid_client');
      assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic /);
      const noSecret = await world.api.post(
        '/token',
        { grant_type: 'client_credentials', client_id: confidential.client_id },
        { form: true },
      );
      assert.equal(noSecret.status, 401);
      // client_secret_basic is registered: the same secret in the body is not accepted.
      const wrongMethod = await world.api.post(
        '/token',
        {
          grant_type: 'client_credentials',
          client_id: confidential.client_id,
          client_secret: confidential.client_secret as string,
        },
        { form: true },
      );
      assert.equal(wrongMethod.status, 401);
      const publicCc = await world.api.post(
        '/token',
        { grant_type: 'client_credentials', client_id: app.client_id },
        { form: true },
      );
      assert.equal(publicCc.status, 400);
      assert.equal(publicCc.body.error, 'unauthorized_client');
      // The code grant needs a registered client: an unregistered id is refused.
      const c = await code();
      const stranger = await world.api.post(
        '/token',
        {
          grant_type: 'authorization_code',
          code: c.code,
          code_verifier: c.verifier,
          client_id: 'made-up',
          redirect_uri: CB,
        },
        { form: true },
      );
      assert.equal(stranger.status, 401);
      assert.equal(stranger.body.error, 'invalid_client');
      // A confidential client's own code with its client_id alone (no secret): the code naming the
      // client does not authenticate it. The code is still good with the secret afterwards.
      const theirs = await code(confidential);
      const bare = {
        grant_type: 'authorization_code',
        code: theirs.code,
        code_verifier: theirs.verifier,
        client_id: confidential.client_id,
        redirect_uri: CB,
      };
      const unauthenticated = await world.api.post('/token', bare, { form: true });
      assert.equal(unauthenticated.status, 401);
      assert.equal(unauthenticated.body.error, 'invalid_client');
      const withSecret = await exchange(
        { code: theirs.code, code_verifier: theirs.verifier },
        confidential,
      );
      assert.equal(withSecret.status, 200, withSecret.text);
    });

    it('a deleted client’s tokens are refused at once: code-flow sessions and client_credentials', async () => {
      const doomed = await registerClient(world, {
        name: 'Doomed',
        redirect_uris: [CB],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        scope: 'openid read',
        token_endpoint_auth_method: 'client_secret_basic',
        first_party: true,
      });
      const c = await code(doomed);
      const user = await exchange({ code: c.code, code_verifier: c.verifier }, doomed);
      assert.equal(user.status, 200, user.text);
      const machine = await world.api.post<Record<string, string>>(
        '/token',
        { grant_type: 'client_credentials', scope: 'read' },
        {
          form: true,
          headers: {
            authorization: `Basic ${Buffer.from(`${doomed.client_id}:${doomed.client_secret}`).toString('base64')}`,
          },
        },
      );
      assert.equal(machine.status, 200, machine.text);
      assert.equal(claimsOf(machine.body.access_token as string).sub, doomed.client_id);
      const live = await world.api.post(
        '/introspect',
        { token: machine.body.access_token as string },
        { form: true, token: world.admin.tokens.access_token },
      );
      assert.equal(live.body.active, true, live.text);
      assert.equal(live.body.sub, doomed.client_id);
      assert.equal(live.body.username, undefined, 'a machine client has no user name');
      // Valid but without openid: userinfo says 403, not 401.
      assert.equal(
        (await world.api.get('/userinfo', { token: machine.body.access_token })).status,
        403,
      );
      assert.equal(
        (await world.api.get('/users/me', { token: user.body.access_token })).status,
        200,
      );
      const gone = await world.api.del(`/admin/clients/${doomed.client_id}`, undefined, {
        token: world.admin.tokens.access_token,
      });
      assert.equal(gone.status, 204);
      assert.equal(
        (await world.api.get('/users/me', { token: user.body.access_token })).status,
        401,
      );
      assert.equal(
        (await world.api.get('/userinfo', { token: machine.body.access_token })).status,
        401,
      );
      assert.equal(
        (await world.api.get('/userinfo', { token: user.body.access_token })).status,
        401,
      );
      const dead = await world.api.post(
        '/introspect',
        { token: machine.body.access_token as string },
        { form: true, token: world.admin.tokens.access_token },
      );
      assert.deepEqual(dead.body, { active: false });
    });

    it('userinfo: 401 without or with a bad token, 403 without openid, the claims by scope otherwise', async () => {
      assert.equal((await world.api.get('/userinfo')).status, 401);
      const bad = await world.api.get('/userinfo', { token: 'x.y.z' });
      assert.equal(bad.status, 401);
      assert.match(bad.headers.get('www-authenticate') ?? '', /invalid_token/);
      const password = await world.api.post<Record<string, string>>(
        '/token',
        { grant_type: 'password', username: alice.username, password: alice.password },
        { form: true },
      );
      const noOpenid = await world.api.get('/userinfo', {
        token: password.body.access_token as string,
      });
      assert.equal(noOpenid.status, 403);
      assert.match(noOpenid.headers.get('www-authenticate') ?? '', /insufficient_scope/);
      const c = await code(app, { scope: 'openid' });
      const tokens = await exchange({ code: c.code, code_verifier: c.verifier });
      const info = await world.api.post('/userinfo', undefined, {
        token: tokens.body.access_token,
      });
      assert.equal(info.status, 200);
      assert.deepEqual(info.body, { sub: alice.id }, 'openid alone releases sub only');
    });

    it('GET /logout without a valid id_token_hint asks first; the confirmation needs its CSRF token; unregistered post-logout URIs get an error page', async () => {
      const bob = await makeUser(world, 'bob');
      const session = await cookieLogin(world.api, bob.username, bob.password);
      const withLogoutUri = await registerClient(world, {
        name: 'Logout app',
        redirect_uris: [CB],
        post_logout_redirect_uris: ['https://app.example/bye'],
        scope: 'openid read',
        first_party: true,
      });
      const get = (query: Record<string, string>) =>
        fetch(`${world.issuer}/logout?${new URLSearchParams(query)}`, {
          redirect: 'manual',
          headers: { cookie: session.jar.header() },
        });
      const evil = await get({
        client_id: withLogoutUri.client_id,
        post_logout_redirect_uri: 'https://evil.example/',
      });
      assert.equal(evil.status, 400);
      assert.equal(evil.headers.get('location'), null);
      const noClient = await get({ post_logout_redirect_uri: 'https://app.example/bye' });
      assert.equal(noClient.status, 400, 'a post-logout URI needs the client it is registered for');
      const forged = await get({
        client_id: withLogoutUri.client_id,
        post_logout_redirect_uri: 'https://app.example/bye',
        id_token_hint: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
        state: 's1',
      });
      assert.equal(forged.status, 200, 'a bad hint is no hint: confirmation first');
      const page = await forged.text();
      assert.match(page, /Sign out/);
      assert.match(
        forged.headers.get('content-security-policy') ?? '',
        /form-action 'self' https:\/\/app\.example/,
      );
      const token = /name="csrf_token" value="([^"]+)"/.exec(page)?.[1];
      assert.ok(token);
      const confirm = (fields: Record<string, string>, origin = world.issuer) =>
        fetch(`${world.issuer}/logout/confirm`, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            cookie: session.jar.header(),
            origin,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({
            client_id: withLogoutUri.client_id,
            post_logout_redirect_uri: 'https://app.example/bye',
            state: 's1',
            decision: 'confirm',
            ...fields,
          }).toString(),
        });
      assert.equal((await confirm({})).status, 400, 'no token');
      assert.equal(
        (await confirm({ csrf_token: token }, 'https://evil.example')).status,
        400,
        'other origin',
      );
      const me = () =>
        world.api.get('/users/me', {
          headers: { cookie: session.jar.header(), 'sec-fetch-site': 'same-origin' },
        });
      assert.equal((await me()).status, 200, 'still signed in after the refusals');
      const done = await confirm({ csrf_token: token });
      assert.equal(done.status, 302);
      assert.equal(done.headers.get('location'), 'https://app.example/bye?state=s1');
      assert.equal((await me()).status, 401, 'the browser session has ended');
    });

    it('the refresh cookie is the browser session: without it, /authorize asks to sign in', async () => {
      const onlyAccess = new CookieJar();
      for (const [k, v] of jar.values) if (k !== REFRESH) onlyAccess.values.set(k, v);
      const answer = await authorize(params(), onlyAccess);
      assert.equal(new URL(answer.location as string, world.issuer).pathname, '/login');
    });
  });
}
