// Black-box: refresh rotation and reuse, logout, revocation, introspection, admin changes biting on
// live tokens, discovery documents, on each database.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { claimsOf, superuser } from '../support/fixtures.ts';
import { type Client, client, login, registerAndLogin, type TokenPair } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

for (const db of testDatabases()) {
  describe(`tokens on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    const refreshGrant = (token: string) =>
      api.post<TokenPair & { error?: string }>(
        '/token',
        { grant_type: 'refresh_token', refresh_token: token },
        { form: true },
      );
    const me = (token: string) => api.get('/users/me', { token });

    before(async () => {
      server = await startServer({ db });
      api = client(server.url);
    });
    after(() => server.close());

    describe('refresh', () => {
      it('rotates: every refresh returns a new refresh token and keeps the session', async () => {
        const user = await registerAndLogin(api);
        const first = await refreshGrant(user.tokens.refresh_token);
        assert.equal(first.status, 200, first.text);
        assert.equal(first.headers.get('cache-control'), 'no-store');
        assert.notEqual(first.body.refresh_token, user.tokens.refresh_token);
        assert.equal(claimsOf(first.body.access_token).sid, claimsOf(user.tokens.access_token).sid);
        const second = await api.post<TokenPair>('/refresh', {
          refresh_token: first.body.refresh_token,
        });
        assert.equal(second.status, 200, second.text);
        assert.notEqual(second.body.refresh_token, first.body.refresh_token);
        assert.equal((await me(second.body.access_token)).status, 200);
      });

      it('gives two concurrent refreshes of one token the same successor, and both stay logged in', async () => {
        const user = await registerAndLogin(api);
        const [a, b] = await Promise.all([
          refreshGrant(user.tokens.refresh_token),
          refreshGrant(user.tokens.refresh_token),
        ]);
        assert.equal(a.status, 200, a.text);
        assert.equal(b.status, 200, b.text);
        assert.equal(a.body.refresh_token, b.body.refresh_token);
        assert.equal((await me(a.body.access_token)).status, 200);
        assert.equal((await me(b.body.access_token)).status, 200);
        assert.equal((await refreshGrant(a.body.refresh_token)).status, 200);
      });

      it('ends the whole session when a used token comes back after the grace window', async () => {
        const user = await registerAndLogin(api);
        const next = await refreshGrant(user.tokens.refresh_token);
        assert.equal(next.status, 200);
        server.clock.advance((server.config.refreshReuseGraceSeconds + 1) * 1000);
        const reuse = await refreshGrant(user.tokens.refresh_token);
        assert.equal(reuse.status, 400);
        assert.equal(reuse.body.error, 'invalid_grant');
        // The attacker's reuse killed the legitimate successor and its access token too.
        assert.equal((await refreshGrant(next.body.refresh_token)).status, 400);
        assert.equal((await me(next.body.access_token)).status, 401);
      });

      it('answers /refresh reuse with 401 problem details and unknown tokens with invalid_grant', async () => {
        const user = await registerAndLogin(api);
        assert.equal(
          (await api.post('/refresh', { refresh_token: user.tokens.refresh_token })).status,
          200,
        );
        server.clock.advance(60_000);
        const reuse = await api.post('/refresh', { refresh_token: user.tokens.refresh_token });
        assert.equal(reuse.status, 401);
        assert.equal(reuse.body.code, 'invalid_grant');
        assert.match(reuse.headers.get('content-type') ?? '', /problem\+json/);
        const unknown = await refreshGrant('A'.repeat(43));
        assert.equal(unknown.status, 400);
        assert.equal(unknown.body.error, 'invalid_grant');
      });

      it('expires refresh tokens after REFRESH_TOKEN_EXPIRE_DAYS of idleness', async () => {
        const user = await registerAndLogin(api);
        server.clock.advance(7 * 86_400_000 + 1000);
        assert.equal((await refreshGrant(user.tokens.refresh_token)).status, 400);
      });

      it('expires access tokens after ACCESS_TOKEN_EXPIRE_MINUTES (5 s leeway)', async () => {
        const user = await registerAndLogin(api);
        server.clock.advance(15 * 60_000 - 1000);
        assert.equal((await me(user.tokens.access_token)).status, 200);
        server.clock.advance(7000);
        const expired = await me(user.tokens.access_token);
        assert.equal(expired.status, 401);
        assert.match(expired.headers.get('www-authenticate') ?? '', /invalid_token/);
      });

      it('narrows scope on refresh when asked, never widens it', async () => {
        const user = await registerAndLogin(api);
        const narrow = await api.post<TokenPair>(
          '/token',
          { grant_type: 'refresh_token', refresh_token: user.tokens.refresh_token, scope: 'read' },
          { form: true },
        );
        assert.equal(narrow.status, 200);
        assert.equal(narrow.body.scope, 'read');
        const readOnly = await login(api, user.username, user.password, 'read');
        const wider = await api.post(
          '/token',
          {
            grant_type: 'refresh_token',
            refresh_token: readOnly.refresh_token,
            scope: 'read write',
          },
          { form: true },
        );
        assert.equal(wider.status, 400);
        assert.equal(wider.body.error, 'invalid_scope');
        // The refused request did not spend the token (past the grace window, a spent one would fail).
        server.clock.advance((server.config.refreshReuseGraceSeconds + 1) * 1000);
        assert.equal((await refreshGrant(readOnly.refresh_token)).status, 200);
      });
    });

    describe('logout and revocation', () => {
      it('logout ends the session: access and refresh tokens stop working', async () => {
        const user = await registerAndLogin(api);
        const other = await login(api, user.username, user.password);
        assert.equal(
          (await api.post('/logout', undefined, { token: user.tokens.access_token })).status,
          204,
        );
        assert.equal((await me(user.tokens.access_token)).status, 401);
        assert.equal((await refreshGrant(user.tokens.refresh_token)).status, 400);
        assert.equal((await me(other.access_token)).status, 200, 'other sessions live on');
        assert.equal((await api.post('/logout')).status, 401);
      });

      it('revokes by refresh token or access token (RFC 7009) and answers 200 {} for anything', async () => {
        const a = await registerAndLogin(api);
        const byRefresh = await api.post(
          '/revoke',
          { token: a.tokens.refresh_token, token_type_hint: 'refresh_token' },
          {
            form: true,
            headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
          },
        );
        assert.equal(byRefresh.status, 200);
        assert.deepEqual(byRefresh.body, {});
        assert.equal((await me(a.tokens.access_token)).status, 401);
        const b = await registerAndLogin(api);
        assert.equal(
          (await api.post('/revoke', { token: b.tokens.access_token }, { form: true })).status,
          200,
        );
        assert.equal((await refreshGrant(b.tokens.refresh_token)).status, 400);
        const junk = await api.post('/revoke', { token: 'junk' }, { form: true });
        assert.equal(junk.status, 200);
        assert.deepEqual(junk.body, {});
        const missing = await api.post('/revoke', {}, { form: true });
        assert.equal(missing.status, 400);
        assert.equal(missing.body.error, 'invalid_request');
      });

      it('keeps revocations across a restart', async () => {
        const own = await startServer({ db });
        const ownApi = client(own.url);
        const user = await registerAndLogin(ownApi);
        const keep = await login(ownApi, user.username, user.password);
        await ownApi.post('/logout', undefined, { token: user.tokens.access_token });
        await own.app.close();
        const again = await startServer({
          db,
          reuse: { dataDir: own.dataDir, databaseUrl: own.databaseUrl },
        });
        try {
          const againApi = client(again.url);
          assert.equal(
            (await againApi.get('/users/me', { token: user.tokens.access_token })).status,
            401,
          );
          assert.equal((await againApi.get('/users/me', { token: keep.access_token })).status, 200);
        } finally {
          await again.app.close();
          await own.close();
        }
      });
    });

    describe('introspection', () => {
      it('is for superusers: 401 without credentials, 403 for others, JSON errors', async () => {
        const user = await registerAndLogin(api);
        const anonymous = await api.post(
          '/introspect',
          { token: user.tokens.access_token },
          { form: true },
        );
        assert.equal(anonymous.status, 401);
        assert.match(anonymous.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(typeof anonymous.body.error, 'string');
        const forbidden = await api.post(
          '/introspect',
          { token: user.tokens.access_token },
          { form: true, token: user.tokens.access_token },
        );
        assert.equal(forbidden.status, 403);
        assert.match(forbidden.headers.get('content-type') ?? '', /^application\/json/);
      });

      it('describes live tokens and answers exactly {active:false} otherwise', async () => {
        const admin = await superuser(server, api);
        const user = await registerAndLogin(api);
        const live = await api.post(
          '/introspect',
          { token: user.tokens.access_token },
          { form: true, token: admin.tokens.access_token },
        );
        assert.equal(live.status, 200);
        const claims = claimsOf(user.tokens.access_token);
        assert.equal(live.body.active, true);
        for (const k of ['sub', 'scope', 'exp', 'iat', 'jti', 'sid', 'iss', 'aud'])
          assert.deepEqual(live.body[k], claims[k], k);
        assert.equal(live.body.username, user.username);
        assert.equal(live.body.token_type, 'access_token');
        const refresh = await api.post(
          '/introspect',
          { token: user.tokens.refresh_token },
          { form: true, token: admin.tokens.access_token },
        );
        assert.equal(refresh.body.active, true);
        assert.equal(refresh.body.token_type, 'refresh_token');
        await api.post('/logout', undefined, { token: user.tokens.access_token });
        for (const token of [
          user.tokens.access_token,
          user.tokens.refresh_token,
          'garbage',
          'a.b.c',
        ]) {
          const dead = await api.post(
            '/introspect',
            { token },
            { form: true, token: admin.tokens.access_token },
          );
          assert.equal(dead.status, 200);
          assert.deepEqual(dead.body, { active: false });
        }
      });
    });

    describe('administration', () => {
      it('lists users with cursor pagination and search; non-superusers get 403 insufficient_scope', async () => {
        const admin = await superuser(server, api);
        const user = await registerAndLogin(api, 'pager');
        for (let i = 0; i < 4; i++) await registerAndLogin(api, 'pager');
        const refused = await api.get('/admin/users', { token: user.tokens.access_token });
        assert.equal(refused.status, 403);
        assert.match(refused.headers.get('www-authenticate') ?? '', /insufficient_scope/);
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const path: string = `/admin/users?limit=2&q=PAGER${cursor ? `&cursor=${cursor}` : ''}`;
          const page = await api.get<{
            items: Array<{ id: string; username: string }>;
            next_cursor: string | null;
          }>(path, { token: admin.tokens.access_token });
          assert.equal(page.status, 200, page.text);
          assert.ok(page.body.items.length <= 2);
          seen.push(...page.body.items.map((u) => u.username));
          cursor = page.body.next_cursor;
        } while (cursor);
        assert.equal(seen.length, 5);
        assert.equal(new Set(seen).size, 5);
        assert.ok(seen.every((name) => name.startsWith('pager')));
        assert.equal(
          (await api.get('/admin/users?limit=0', { token: admin.tokens.access_token })).status,
          422,
        );
        assert.equal(
          (await api.get('/admin/users?cursor=zzz', { token: admin.tokens.access_token })).status,
          422,
        );
      });

      it('deactivation takes effect on live tokens at once; reactivation lets the user log in again', async () => {
        const admin = await superuser(server, api);
        const user = await registerAndLogin(api);
        const off = await api.patch(
          `/admin/users/${user.id}`,
          { is_active: false },
          { token: admin.tokens.access_token },
        );
        assert.equal(off.status, 200);
        assert.equal(off.body.is_active, false);
        assert.equal((await me(user.tokens.access_token)).status, 401);
        assert.equal((await refreshGrant(user.tokens.refresh_token)).status, 400);
        assert.equal(
          (
            await api.post(
              '/token',
              { username: user.username, password: user.password },
              { form: true },
            )
          ).status,
          400,
        );
        await api.patch(
          `/admin/users/${user.id}`,
          { is_active: true },
          { token: admin.tokens.access_token },
        );
        const back = await login(api, user.username, user.password);
        assert.equal((await me(back.access_token)).status, 200);
      });

      it('demotion takes effect on live tokens and ends the sessions holding admin; a new token carries no admin scope', async () => {
        const root = await superuser(server, api);
        const other = await superuser(server, api);
        assert.match(claimsOf(other.tokens.access_token).scope as string, /\badmin\b/);
        const demoted = await api.patch(
          `/admin/users/${other.id}`,
          { is_superuser: false },
          { token: root.tokens.access_token },
        );
        assert.equal(demoted.status, 200);
        assert.equal(
          (await api.get('/admin/users', { token: other.tokens.access_token })).status,
          401,
        );
        // The session held the admin right, so it ended with it (a sign-in overlapping the demotion
        // could otherwise mint an admin token after it): refresh is refused, a new sign-in has no admin.
        const ended = await refreshGrant(other.tokens.refresh_token);
        assert.equal(ended.status, 400);
        assert.equal(ended.body.error, 'invalid_grant');
        const renewed = { body: await login(api, other.username, other.password) };
        assert.doesNotMatch(renewed.body.scope, /\badmin\b/);
        assert.equal(
          (await api.get('/admin/users', { token: renewed.body.access_token })).status,
          403,
        );
        assert.equal((await me(renewed.body.access_token)).status, 200);
      });

      it('changes scopes and verification; refuses unknown scopes; deletes users', async () => {
        const admin = await superuser(server, api);
        const user = await registerAndLogin(api);
        const changed = await api.patch(
          `/admin/users/${user.id}`,
          { scopes: ['read'], is_verified: true },
          { token: admin.tokens.access_token },
        );
        assert.equal(changed.status, 200);
        assert.deepEqual(changed.body.scopes, ['read']);
        assert.equal(changed.body.is_verified, true);
        assert.equal(
          (await me(user.tokens.access_token)).status,
          401,
          'losing a scope voids live tokens',
        );
        assert.equal((await login(api, user.username, user.password)).scope, 'read');
        assert.equal(
          (
            await api.patch(
              `/admin/users/${user.id}`,
              { scopes: ['launch-missiles'] },
              { token: admin.tokens.access_token },
            )
          ).status,
          422,
        );
        assert.equal(
          (
            await api.patch(
              '/admin/users/01a00000-0000-7000-8000-000000000000',
              { is_active: false },
              { token: admin.tokens.access_token },
            )
          ).status,
          404,
        );
        const fresh = await login(api, user.username, user.password);
        assert.equal(
          (
            await api.del(`/admin/users/${user.id}`, undefined, {
              token: admin.tokens.access_token,
            })
          ).status,
          204,
        );
        assert.equal((await me(fresh.access_token)).status, 401);
        assert.equal(
          (
            await api.del(`/admin/users/${user.id}`, undefined, {
              token: admin.tokens.access_token,
            })
          ).status,
          404,
        );
      });
    });

    describe('discovery', () => {
      it('publishes RFC 8414 metadata whose issuer matches every token', async () => {
        const meta = await api.get('/.well-known/oauth-authorization-server');
        assert.equal(meta.status, 200);
        assert.equal(meta.body.issuer, server.config.issuer);
        assert.equal(meta.body.token_endpoint, 'http://localhost:8000/token');
        assert.equal(meta.body.jwks_uri, 'http://localhost:8000/.well-known/jwks.json');
        for (const k of [
          'revocation_endpoint',
          'introspection_endpoint',
          'grant_types_supported',
          'scopes_supported',
        ])
          assert.ok(meta.body[k], k);
        const user = await registerAndLogin(api);
        assert.equal(claimsOf(user.tokens.access_token).iss, meta.body.issuer);
      });

      it('publishes only public keys, each with kid, alg and use', async () => {
        const jwks = await api.get<{ keys: Array<Record<string, unknown>> }>(
          '/.well-known/jwks.json',
        );
        assert.equal(jwks.status, 200);
        assert.ok(jwks.body.keys.length >= 1);
        for (const key of jwks.body.keys) {
          assert.equal(key.use, 'sig');
          assert.equal(key.alg, 'ES256');
          assert.equal(typeof key.kid, 'string');
          for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
            assert.equal(key[secret], undefined, secret);
        }
      });

      it('answers health, readiness, the OpenAPI document and the docs page', async () => {
        assert.equal((await api.get('/healthz')).status, 200);
        const ready = await api.get('/readyz');
        assert.equal(ready.status, 200);
        const openapi = await api.get<{
          openapi: string;
          paths: Record<string, unknown>;
          components: {
            securitySchemes: Record<string, { flows: { password: { tokenUrl: string } } }>;
          };
        }>('/openapi.json');
        assert.equal(openapi.status, 200);
        assert.match(openapi.body.openapi, /^3\./);
        for (const path of ['/register', '/token', '/users/me', '/admin/users', '/introspect'])
          assert.ok(openapi.body.paths[path], path);
        assert.equal(
          openapi.body.components.securitySchemes.oauth2?.flows.password.tokenUrl,
          '/token',
        );
        const docs = await api.get('/docs/');
        assert.equal(docs.status, 200);
        assert.match(docs.text, /swagger/i);
      });
    });
  });
}
