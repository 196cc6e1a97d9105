// Sign in with another identity provider (SPEC §9), the attacks and failures, against a REAL OpenID
// Connect provider on loopback (oidc-provider, test/support/oidc-provider.ts), the browser's part
// played over plain HTTP (walkToCallback): a tampered or missing state, a replayed callback, ID
// tokens of another audience, issuer, nonce or key (re-signed in the test with the provider's key
// or another), open redirects, an unknown provider, the provider stopped in the middle of a
// sign-in, ALLOW_SIGNUP=false, and a provider-only account setting a password through reset.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair } from 'jose';
import { register } from '../../src/auth/accounts/index.ts';
import { ACCESS, CookieJar, CSRF, cookieLogin, REFRESH } from '../support/cookies.ts';
import { client, newIdentity } from '../support/http.ts';
import { linkToken, outboxMail } from '../support/mail.ts';
import {
  freePort,
  startOidcProvider,
  type TestProvider,
  walkToCallback,
} from '../support/oidc-provider.ts';
import { testDatabases } from '../support/postgres.ts';
import { redisEnv } from '../support/redis.ts';
import { startServer, type TestServer } from '../support/server.ts';

const FLOW = '__Host-portcullis_idp_flow';

interface Callback {
  status: number;
  location: string | null;
  html: string;
  cookies: CookieJar;
}

async function deliver(url: string, cookie: string | undefined): Promise<Callback> {
  const response = await fetch(url, {
    redirect: 'manual',
    headers: cookie === undefined ? {} : { cookie },
  });
  const cookies = new CookieJar();
  for (const line of response.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const eq = pair.indexOf('=');
    if (pair.slice(eq + 1) !== '') cookies.values.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return {
    status: response.status,
    location: response.headers.get('location'),
    html: await response.text(),
    cookies,
  };
}

const problemOf = (html: string): string | undefined =>
  /data-idp-problem="([^"]+)"/.exec(html)?.[1];

for (const db of testDatabases()) {
  describe(`sign-in with an OpenID provider: attacks and failures, on ${db}`, () => {
    let server: TestServer;
    let closed: TestServer;
    let provider: TestProvider;
    let base: string;
    let closedBase: string;
    const callbackOf = (b: string) => `${b}/auth/corp/callback`;

    before(async () => {
      const [port, closedPort] = [await freePort(), await freePort()];
      base = `http://127.0.0.1:${port}`;
      closedBase = `http://127.0.0.1:${closedPort}`;
      provider = await startOidcProvider({
        clientId: 'portcullis-test',
        clientSecret: 'provider-client-secret',
        redirectUris: [callbackOf(base), callbackOf(closedBase)],
      });
      const env = {
        IDENTITY_PROVIDERS: 'corp',
        IDP_CORP_ISSUER: provider.issuer,
        IDP_CORP_CLIENT_ID: 'portcullis-test',
        IDP_CORP_CLIENT_SECRET: 'provider-client-secret',
      };
      server = await startServer({ db, port, env: { ...env, PUBLIC_URL: base } });
      closed = await startServer({
        db,
        port: closedPort,
        env: { ...env, PUBLIC_URL: closedBase, ALLOW_SIGNUP: 'false' },
      });
    });
    after(async () => {
      await server?.close();
      await closed?.close();
      await provider?.close();
    });

    const walk = (sub: string, query = '', at = base, cookie = '') =>
      walkToCallback(`${at}/auth/corp/start${query}`, sub, callbackOf(at), cookie);

    it('signs in once per callback: a replay finds nothing', async () => {
      provider.accounts.set('replay-sub', { email: 'replay@corp.example', email_verified: true });
      const answer = await walk('replay-sub');
      const first = await deliver(answer.callbackUrl, answer.cookie);
      assert.equal(first.status, 302);
      assert.equal(first.location, '/');
      assert.ok(first.cookies.get(ACCESS) && first.cookies.get(REFRESH) && first.cookies.get(CSRF));
      const replay = await deliver(answer.callbackUrl, answer.cookie);
      assert.equal(replay.status, 400);
      assert.equal(problemOf(replay.html), 'unknown_flow');
      assert.equal(replay.cookies.get(ACCESS), undefined);
    });

    it('refuses a callback without the flow cookie (login CSRF), and one with a tampered state', async () => {
      provider.accounts.set('csrf-sub', { email: 'csrf@corp.example', email_verified: true });
      const answer = await walk('csrf-sub');
      const bare = await deliver(answer.callbackUrl, undefined);
      assert.equal(bare.status, 400);
      assert.equal(problemOf(bare.html), 'missing_cookie');
      assert.equal(bare.cookies.get(ACCESS), undefined);
      // Another browser's cookie is no better.
      const other = await walk('csrf-sub');
      const crossed = await deliver(answer.callbackUrl, other.cookie);
      assert.equal(crossed.status, 400);
      assert.equal(problemOf(crossed.html), 'state_mismatch');

      const fresh = await walk('csrf-sub');
      const tampered = new URL(fresh.callbackUrl);
      tampered.searchParams.set('state', `${tampered.searchParams.get('state')}x`);
      const refused = await deliver(tampered.href, fresh.cookie);
      assert.equal(refused.status, 400);
      assert.equal(problemOf(refused.html), 'state_mismatch');
      assert.equal(refused.cookies.get(ACCESS), undefined);
      // The flow is spent by the attempt: the genuine answer cannot be used after it either.
      assert.equal((await deliver(fresh.callbackUrl, fresh.cookie)).status, 400);
      const audit = await server.app.services.store.audit.list({ limit: 100 });
      assert.ok(
        audit.some(
          (e) => e.type === 'login.failure' && JSON.parse(e.details).reason === 'state_mismatch',
        ),
      );
    });

    it('validates the ID token: another audience, issuer or nonce, or another key, is refused', async () => {
      provider.accounts.set('token-sub', { email: 'token@corp.example', email_verified: true });
      const cases: Array<[string, (c: Record<string, unknown>) => Record<string, unknown>]> = [
        ['audience', (c) => ({ ...c, aud: 'another-client' })],
        ['issuer', (c) => ({ ...c, iss: 'http://localhost:1' })],
        ['nonce', (c) => ({ ...c, nonce: 'not-the-nonce-we-sent' })],
        ['expiry', (c) => ({ ...c, exp: Math.floor(Date.now() / 1000) - 3600 })],
      ];
      try {
        for (const [what, change] of cases) {
          const answer = await walk('token-sub');
          provider.tamper = change;
          const result = await deliver(answer.callbackUrl, answer.cookie);
          assert.equal(result.status, 400, what);
          assert.equal(problemOf(result.html), 'invalid_response', what);
          assert.equal(result.cookies.get(ACCESS), undefined, what);
        }
        // Control: the same re-signing with nothing changed is accepted, so the claims were the cause.
        const answer = await walk('token-sub');
        provider.tamper = (c) => c;
        assert.equal((await deliver(answer.callbackUrl, answer.cookie)).status, 302);
      } finally {
        provider.tamper = undefined;
      }
      // A token signed with a key that is not in the provider's JWKS (under the same kid).
      const forged = await walk('token-sub');
      provider.signingKey = (await generateKeyPair('RS256')).privateKey;
      try {
        const result = await deliver(forged.callbackUrl, forged.cookie);
        assert.equal(result.status, 400);
        assert.equal(problemOf(result.html), 'invalid_response');
      } finally {
        provider.signingKey = undefined;
      }
    });

    it('goes only to local paths after the sign-in', async () => {
      provider.accounts.set('next-sub', { email: 'next@corp.example', email_verified: true });
      for (const next of [
        'https://evil.example/',
        '//evil.example/x',
        '/\\evil.example',
        'javascript:alert(1)',
      ]) {
        const answer = await walk('next-sub', `?next=${encodeURIComponent(next)}`);
        const result = await deliver(answer.callbackUrl, answer.cookie);
        assert.equal(result.status, 302, next);
        assert.equal(result.location, '/', next);
      }
      const answer = await walk('next-sub', `?next=${encodeURIComponent('/account?tab=2')}`);
      assert.equal((await deliver(answer.callbackUrl, answer.cookie)).location, '/account?tab=2');
      // A pending /authorize goes through /login, which navigates there from this site.
      const authorize = '/authorize?client_id=x&state=y';
      const viaLogin = await walk('next-sub', `?next=${encodeURIComponent(authorize)}`);
      assert.equal(
        (await deliver(viaLogin.callbackUrl, viaLogin.cookie)).location,
        `/login?next=${encodeURIComponent(authorize)}`,
      );
    });

    it('answers an unknown provider name with 404, and lists the configured ones', async () => {
      for (const path of ['/auth/nope/start', '/auth/nope/callback?code=x&state=y']) {
        const result = await deliver(`${base}${path}`, undefined);
        assert.equal(result.status, 404, path);
        assert.equal(problemOf(result.html), 'unknown_provider');
      }
      const list = await client(base).get<unknown[]>('/auth/providers');
      assert.deepEqual(list.body, [
        {
          name: 'corp',
          label: 'Sign in with Corp',
          display_name: 'Corp',
          available: true,
          start_url: '/auth/corp/start',
        },
      ]);
    });

    it('gives a clear page, not a 5xx, when the provider stops in the middle of a sign-in', async () => {
      provider.accounts.set('down-sub', { email: 'down@corp.example', email_verified: true });
      const answer = await walk('down-sub');
      await provider.stop();
      try {
        const result = await deliver(answer.callbackUrl, answer.cookie);
        assert.equal(result.status, 400);
        assert.equal(problemOf(result.html), 'provider_unavailable');
        assert.match(result.html, /cannot be reached/);
      } finally {
        await provider.resume();
      }
      // And it works again once the provider is back.
      const later = await walk('down-sub');
      assert.equal((await deliver(later.callbackUrl, later.cookie)).status, 302);
    });

    it('starts while the provider is down, shows it unavailable, and discovers it once it is back', async () => {
      await provider.stop();
      let late: TestServer | undefined;
      try {
        late = await startServer({
          db,
          env: {
            IDENTITY_PROVIDERS: 'corp',
            IDP_CORP_ISSUER: provider.issuer,
            IDP_CORP_CLIENT_ID: 'portcullis-test',
            IDP_CORP_CLIENT_SECRET: 'provider-client-secret',
          },
        });
        const api = client(late.url);
        const list = await api.get<Array<{ available: boolean }>>('/auth/providers');
        assert.equal(list.body[0]?.available, false);
        const down = await deliver(`${late.url}/auth/corp/start`, undefined);
        assert.equal(down.status, 400);
        assert.equal(problemOf(down.html), 'provider_unavailable');
        await provider.resume();
        // The next sign-in tries discovery again rather than waiting for the background retry.
        const up = await deliver(`${late.url}/auth/corp/start`, undefined);
        assert.equal(up.status, 302);
        assert.ok(up.location?.startsWith(provider.issuer));
        assert.equal(
          (await api.get<Array<{ available: boolean }>>('/auth/providers')).body[0]?.available,
          true,
        );
      } finally {
        await provider.resume();
        await late?.close();
      }
    });

    if (db === 'postgres')
      it('takes a callback on another instance than the start (PostgreSQL + Redis)', async () => {
        const shared = {
          ...redisEnv(),
          PUBLIC_URL: base,
          IDENTITY_PROVIDERS: 'corp',
          IDP_CORP_ISSUER: provider.issuer,
          IDP_CORP_CLIENT_ID: 'portcullis-test',
          IDP_CORP_CLIENT_SECRET: 'provider-client-secret',
        };
        const a = await startServer({ db, env: shared });
        const b = await startServer({
          env: shared,
          reuse: { dataDir: a.dataDir, databaseUrl: a.databaseUrl },
        });
        try {
          provider.accounts.set('lb-sub', { email: 'lb@corp.example', email_verified: true });
          // Behind one PUBLIC_URL: the start reaches instance A, the provider's redirect instance B.
          const answer = await walkToCallback(
            `${a.url}/auth/corp/start`,
            'lb-sub',
            callbackOf(base),
          );
          const onB = `${b.url}${new URL(answer.callbackUrl).pathname}${new URL(answer.callbackUrl).search}`;
          const result = await deliver(onB, answer.cookie);
          assert.equal(result.status, 302, result.html);
          assert.ok(result.cookies.get(ACCESS));
          // And the flow is spent for every instance.
          const onA = `${a.url}${new URL(answer.callbackUrl).pathname}${new URL(answer.callbackUrl).search}`;
          assert.equal((await deliver(onA, answer.cookie)).status, 400);
        } finally {
          await b.close();
          await a.close();
        }
      });

    it('links only for a signed-in browser, and never an identity that is another account’s', async () => {
      const who = newIdentity('linkhttp');
      await register(server.app.services, who);
      const session = await cookieLogin(client(base), who.username, who.password);
      provider.accounts.set('link-sub', { email: 'someone@corp.example', email_verified: true });
      // Without the session: a page that says to sign in first, no redirect to the provider.
      const anonymous = await deliver(`${base}/auth/corp/start?link=1`, undefined);
      assert.equal(anonymous.status, 401);
      assert.equal(problemOf(anonymous.html), 'not_signed_in');
      // With the session cookies but from a sibling subdomain (Fetch Metadata): refused as well.
      for (const site of ['same-site', 'cross-site']) {
        const sibling = await fetch(`${base}/auth/corp/start?link=1`, {
          redirect: 'manual',
          headers: { cookie: session.jar.header(), 'sec-fetch-site': site },
        });
        assert.equal(sibling.status, 401, site);
      }

      const answer = await walk('link-sub', '?link=1&next=%2Faccount', base, session.jar.header());
      const linked = await deliver(answer.callbackUrl, answer.cookie);
      assert.equal(linked.status, 302);
      assert.equal(linked.location, '/account');
      const api = client(base);
      const token = (
        await api.post<{ access_token: string }>(
          '/token',
          { username: who.username, password: who.password },
          { form: true },
        )
      ).body.access_token;
      const list = await api.get<Array<Record<string, unknown>>>('/users/me/identities', { token });
      assert.equal(list.status, 200);
      assert.equal(list.body.length, 1);
      assert.equal(list.body[0]?.provider, 'corp');
      assert.equal(list.body[0]?.email, 'someone@corp.example');
      assert.equal(typeof list.body[0]?.linked_at, 'string');

      // Another account cannot take the same identity.
      const thief = newIdentity('thief');
      await register(server.app.services, thief);
      const theirs = await cookieLogin(client(base), thief.username, thief.password);
      const again = await walk('link-sub', '?link=1', base, theirs.jar.header());
      const refused = await deliver(again.callbackUrl, again.cookie);
      assert.equal(refused.status, 400);
      assert.equal(problemOf(refused.html), 'linked_elsewhere');

      // With a password the identity can be unlinked; then it is gone.
      assert.equal((await api.del('/users/me/identities/corp', undefined, { token })).status, 204);
      assert.equal((await api.del('/users/me/identities/corp', undefined, { token })).status, 404);
      assert.deepEqual((await api.get('/users/me/identities', { token })).body, []);
    });

    it('with ALLOW_SIGNUP=false refuses new accounts here and at /register', async () => {
      provider.accounts.set('closed-sub', { email: 'closed@corp.example', email_verified: true });
      const answer = await walk('closed-sub', '', closedBase);
      const result = await deliver(answer.callbackUrl, answer.cookie);
      assert.equal(result.status, 403);
      assert.equal(problemOf(result.html), 'signup_disabled');
      assert.equal(
        await closed.app.services.store.users.findByEmailNorm('closed@corp.example'),
        undefined,
      );
      const registered = await client(closedBase).post('/register', newIdentity('closed'));
      assert.equal(registered.status, 403);
      assert.equal(registered.body.code, 'signup_disabled');
    });

    it('lets a provider-only account set a password through the reset flow', async () => {
      provider.accounts.set('reset-sub', {
        email: 'reset@corp.example',
        email_verified: true,
        preferred_username: 'resetter',
      });
      const answer = await walk('reset-sub');
      assert.equal((await deliver(answer.callbackUrl, answer.cookie)).status, 302);
      const api = client(base);
      const password = 'a brand new passphrase for reset';
      const before = await api.post('/token', { username: 'resetter', password }, { form: true });
      assert.equal(before.status, 400);
      assert.equal(before.body.error, 'invalid_grant');
      assert.equal(
        (await api.post('/password/forgot', { email: 'reset@corp.example' })).status,
        202,
      );
      const mail = await outboxMail(server.dataDir, 'reset@corp.example');
      const token = linkToken(mail, server.config.publicUrl, 'reset');
      const reset = await api.post('/password/reset', { token, new_password: password });
      assert.equal(reset.status, 204, reset.text);
      const afterReset = await api.post(
        '/token',
        { username: 'resetter', password },
        { form: true },
      );
      assert.equal(afterReset.status, 200, afterReset.text);
      const user = await server.app.services.store.users.findByEmailNorm('reset@corp.example');
      assert.equal(user?.hasPassword, true);
    });

    it('sends state, nonce and an S256 PKCE challenge to the provider, with the flow cookie HttpOnly and Lax', async () => {
      const start = await fetch(`${base}/auth/corp/start`, { redirect: 'manual' });
      assert.equal(start.status, 302);
      const location = new URL(start.headers.get('location') ?? '');
      assert.equal(location.origin, provider.issuer);
      assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(location.searchParams.get('code_challenge'));
      assert.ok(location.searchParams.get('nonce'));
      assert.ok(location.searchParams.get('state'));
      assert.equal(location.searchParams.get('redirect_uri'), callbackOf(base));
      const line = start.headers.getSetCookie().find((l) => l.startsWith(`${FLOW}=`)) ?? '';
      assert.match(line, /HttpOnly/i);
      assert.match(line, /SameSite=Lax/i);
      assert.match(line, /Secure/i);
      assert.match(line, /Path=\//);
      // The state is not the cookie: the cookie only names the server-side flow.
      assert.ok(!line.includes(location.searchParams.get('state') ?? '-'));
    });
  });
}
