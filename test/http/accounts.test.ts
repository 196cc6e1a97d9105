// Black-box: registration, login at /token, the caller's own account and other users, on each database.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { claimsOf, headerOf, superuser } from '../support/fixtures.ts';
import { type Client, client, login, newIdentity, registerAndLogin } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: Array<{ field: string }>;
  reasons?: string[];
};

for (const db of testDatabases()) {
  describe(`accounts on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    before(async () => {
      server = await startServer({ db });
      api = client(server.url);
    });
    after(() => server.close());

    describe('POST /register', () => {
      it('creates a user and answers 201 with the public fields only', async () => {
        const who = newIdentity();
        const answer = await api.post('/register', who);
        assert.equal(answer.status, 201);
        assert.deepEqual(Object.keys(answer.body).sort(), [
          'created_at',
          'email',
          'id',
          'is_active',
          'is_superuser',
          'is_verified',
          'scopes',
          'username',
        ]);
        assert.equal(answer.body.username, who.username);
        assert.equal(answer.body.is_active, true);
        assert.equal(answer.body.is_superuser, false);
        assert.deepEqual(answer.body.scopes, ['read', 'write']);
        assert.ok(!answer.text.includes('argon2'), 'no hash in the answer');
      });

      it('never honours privileged fields in the body', async () => {
        const who = newIdentity();
        const answer = await api.post('/register', {
          ...who,
          is_superuser: true,
          is_active: false,
          is_verified: true,
          scopes: ['admin'],
          id: 'mine',
        });
        assert.equal(answer.status, 201);
        assert.equal(answer.body.is_superuser, false);
        assert.equal(answer.body.is_verified, false);
        assert.equal(answer.body.is_active, true);
        assert.notEqual(answer.body.id, 'mine');
        const tokens = await login(api, who.username, who.password);
        assert.equal(claimsOf(tokens.access_token).scope, 'read write');
      });

      it('answers 409 user_exists whatever the case or Unicode form', async () => {
        const who = newIdentity();
        assert.equal((await api.post('/register', who)).status, 201);
        const sameName = await api.post<Problem>('/register', {
          ...newIdentity(),
          username: who.username.toUpperCase(),
        });
        assert.equal(sameName.status, 409);
        assert.equal(sameName.body.code, 'user_exists');
        assert.match(sameName.headers.get('content-type') ?? '', /application\/problem\+json/);
        const fullwidth = [...who.username]
          .map((c) => (/[a-z]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c))
          .join('');
        assert.equal(
          (await api.post<Problem>('/register', { ...newIdentity(), username: fullwidth })).status,
          409,
        );
        const sameEmail = await api.post<Problem>('/register', {
          ...newIdentity(),
          email: who.email.toUpperCase(),
        });
        assert.equal(sameEmail.status, 409);
      });

      it('answers 422 weak_password with reasons', async () => {
        for (const [password, reason] of [
          ['short1', 'too_short'],
          ['password', 'common'],
          ['12345678', 'common'],
        ] as const) {
          const answer = await api.post<Problem>('/register', { ...newIdentity(), password });
          assert.equal(answer.status, 422, password);
          assert.equal(answer.body.code, 'weak_password');
          assert.ok(answer.body.reasons?.includes(reason), `${password}: ${answer.text}`);
        }
        const who = newIdentity();
        const same = await api.post<Problem>('/register', { ...who, password: who.username });
        assert.equal(same.status, 422);
        assert.ok(same.body.reasons?.includes('matches_username'));
      });

      it('accepts a 64-character password and a long passphrase (no 72-byte truncation)', async () => {
        const who = newIdentity();
        const password = `${'ü'.repeat(40)}${who.username}tail`;
        assert.equal((await api.post('/register', { ...who, password })).status, 201);
        await login(api, who.username, password);
        const truncated = await api.post(
          '/token',
          { username: who.username, password: password.slice(0, 36) },
          { form: true },
        );
        assert.equal(truncated.status, 400);
      });

      it('answers 422 with the failing fields for bad names and emails', async () => {
        for (const [field, value] of [
          ['username', 'ab'],
          ['username', 'a'.repeat(33)],
          ['username', 'has space'],
          ['username', 'pаypal'], // Cyrillic а among Latin letters
          ['email', 'not-an-email'],
        ] as const) {
          const answer = await api.post<Problem>('/register', { ...newIdentity(), [field]: value });
          assert.equal(answer.status, 422, `${field}=${value}`);
          assert.ok(
            answer.body.errors?.some((e) => e.field === field),
            answer.text,
          );
        }
      });
    });

    describe('POST /token (password grant)', () => {
      it('issues an RFC 9068 access token and a refresh token, form-encoded without grant_type', async () => {
        const who = newIdentity();
        const created = await api.post('/register', who);
        const answer = await api.post(
          '/token',
          { username: who.username, password: who.password },
          {
            form: true,
            headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
          },
        );
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.headers.get('cache-control'), 'no-store');
        assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(answer.body.token_type, 'bearer');
        assert.equal(answer.body.expires_in, 900);
        assert.equal(answer.body.scope, 'read write');
        assert.equal(typeof answer.body.refresh_token, 'string');
        const token = answer.body.access_token as string;
        const header = headerOf(token);
        assert.equal(header.typ, 'at+jwt');
        assert.equal(header.alg, 'ES256');
        assert.equal(typeof header.kid, 'string');
        const claims = claimsOf(token);
        assert.equal(claims.iss, 'http://localhost:8000');
        assert.equal(claims.aud, 'http://localhost:8000');
        assert.equal(claims.sub, created.body.id);
        assert.equal(claims.preferred_username, who.username);
        assert.equal(claims.client_id, 'portcullis');
        assert.equal(claims.scope, 'read write');
        for (const name of ['exp', 'iat', 'jti', 'sid']) assert.ok(claims[name], name);
        assert.equal((claims.exp as number) - (claims.iat as number), 900);
      });

      it('logs in by email, by JSON, and with a named public client', async () => {
        const who = newIdentity();
        await api.post('/register', who);
        const byEmail = await api.post(
          '/token',
          {
            grant_type: 'password',
            username: who.email.toUpperCase(),
            password: who.password,
            client_id: 'my-spa',
            client_secret: '',
          },
          { form: true },
        );
        assert.equal(byEmail.status, 200, byEmail.text);
        assert.equal(claimsOf(byEmail.body.access_token as string).client_id, 'my-spa');
        const json = await api.post('/token', {
          grant_type: 'password',
          username: who.username,
          password: who.password,
        });
        assert.equal(json.status, 200);
      });

      it('gives unknown users and wrong passwords the same invalid_grant answer', async () => {
        const who = newIdentity();
        await api.post('/register', who);
        const wrong = await api.post(
          '/token',
          { username: who.username, password: 'wrong password here' },
          { form: true },
        );
        const unknown = await api.post(
          '/token',
          { username: 'nobody-here', password: 'wrong password here' },
          { form: true },
        );
        assert.equal(wrong.status, 400);
        assert.deepEqual(wrong.body, unknown.body);
        assert.equal(wrong.body.error, 'invalid_grant');
        assert.match(wrong.headers.get('content-type') ?? '', /^application\/json/);
      });

      it('grants a requested subset of scopes and refuses more', async () => {
        const who = newIdentity();
        await api.post('/register', who);
        const read = await login(api, who.username, who.password, 'read');
        assert.equal(read.scope, 'read');
        assert.equal(claimsOf(read.access_token).scope, 'read');
        const more = await api.post(
          '/token',
          { username: who.username, password: who.password, scope: 'read admin' },
          { form: true },
        );
        assert.equal(more.status, 400);
        assert.equal(more.body.error, 'invalid_scope');
      });

      it('refuses unknown grant types, missing fields and client secrets', async () => {
        const unsupported = await api.post('/token', { grant_type: 'device_code' }, { form: true });
        assert.equal(unsupported.status, 400);
        assert.equal(unsupported.body.error, 'unsupported_grant_type');
        // client_credentials exists, but only for a registered confidential client that authenticates.
        const anonymous = await api.post(
          '/token',
          { grant_type: 'client_credentials' },
          { form: true },
        );
        assert.equal(anonymous.status, 401);
        assert.equal(anonymous.body.error, 'invalid_client');
        const missing = await api.post(
          '/token',
          { grant_type: 'password', username: 'x' },
          { form: true },
        );
        assert.equal(missing.status, 400);
        assert.equal(missing.body.error, 'invalid_request');
        const secret = await api.post(
          '/token',
          { username: 'x', password: 'y', client_id: 'a', client_secret: 's' },
          { form: true },
        );
        assert.equal(secret.status, 401);
        assert.equal(secret.body.error, 'invalid_client');
      });
    });

    describe('/users/me', () => {
      it('answers 401 with a Bearer challenge without a token, and invalid_token with a bad one', async () => {
        const none = await api.get<Problem>('/users/me');
        assert.equal(none.status, 401);
        assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
        assert.doesNotMatch(none.headers.get('www-authenticate') ?? '', /error=/);
        assert.match(none.headers.get('content-type') ?? '', /application\/problem\+json/);
        const bad = await api.get('/users/me', { token: 'not-a-token' });
        assert.equal(bad.status, 401);
        assert.match(bad.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      });

      it('changes username and email; a new email is unverified again; collisions are 409', async () => {
        const admin = await superuser(server, api);
        const me = await registerAndLogin(api);
        await api.patch(
          `/admin/users/${me.id}`,
          { is_verified: true },
          { token: admin.tokens.access_token },
        );
        const renamed = newIdentity();
        const answer = await api.patch(
          '/users/me',
          { username: renamed.username, email: renamed.email },
          { token: me.tokens.access_token },
        );
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.body.username, renamed.username);
        assert.equal(answer.body.is_verified, false);
        const other = await registerAndLogin(api);
        const taken = await api.patch<Problem>(
          '/users/me',
          { username: other.username.toUpperCase() },
          { token: me.tokens.access_token },
        );
        assert.equal(taken.status, 409);
        assert.equal(taken.body.code, 'user_exists');
        assert.equal(
          (await api.get('/users/me', { token: me.tokens.access_token })).body.username,
          renamed.username,
        );
      });

      it('changes the password, ending every other session but this one', async () => {
        const me = await registerAndLogin(api);
        const other = await login(api, me.username, me.password);
        const wrong = await api.post<Problem>(
          '/users/me/password',
          { current_password: 'nope nope nope', new_password: 'a brand new secret 1' },
          { token: me.tokens.access_token },
        );
        assert.equal(wrong.status, 400);
        const weak = await api.post<Problem>(
          '/users/me/password',
          { current_password: me.password, new_password: 'password' },
          { token: me.tokens.access_token },
        );
        assert.equal(weak.status, 422);
        assert.equal(weak.body.code, 'weak_password');
        const ok = await api.post(
          '/users/me/password',
          { current_password: me.password, new_password: 'a brand new secret 1' },
          { token: me.tokens.access_token },
        );
        assert.equal(ok.status, 204);
        assert.equal((await api.get('/users/me', { token: other.access_token })).status, 401);
        assert.equal(
          (
            await api.post(
              '/token',
              { grant_type: 'refresh_token', refresh_token: other.refresh_token },
              { form: true },
            )
          ).status,
          400,
        );
        assert.equal((await api.get('/users/me', { token: me.tokens.access_token })).status, 200);
        await login(api, me.username, 'a brand new secret 1');
        assert.equal(
          (
            await api.post(
              '/token',
              { username: me.username, password: me.password },
              { form: true },
            )
          ).status,
          400,
        );
      });

      it('deletes the account with the password; its tokens stop working', async () => {
        const me = await registerAndLogin(api);
        assert.equal(
          (
            await api.del(
              '/users/me',
              { password: 'wrong one here' },
              { token: me.tokens.access_token },
            )
          ).status,
          400,
        );
        assert.equal(
          (await api.del('/users/me', { password: me.password }, { token: me.tokens.access_token }))
            .status,
          204,
        );
        assert.equal((await api.get('/users/me', { token: me.tokens.access_token })).status, 401);
        assert.equal(
          (
            await api.post(
              '/token',
              { username: me.username, password: me.password },
              { form: true },
            )
          ).status,
          400,
        );
        assert.equal(
          (
            await api.post('/register', {
              username: me.username,
              email: me.email,
              password: me.password,
            })
          ).status,
          201,
        );
      });
    });

    describe('sessions', () => {
      it('lists sessions with the current one marked, ends one, and ends all others', async () => {
        const me = await registerAndLogin(api);
        const second = await login(api, me.username, me.password);
        const third = await login(api, me.username, me.password);
        const list = await api.get<Array<Record<string, unknown>>>('/users/me/sessions', {
          token: me.tokens.access_token,
          headers: { 'user-agent': 'test-agent/1.0' },
        });
        assert.equal(list.status, 200);
        assert.equal(list.body.length, 3);
        const current = list.body.filter((x) => x.current);
        assert.equal(current.length, 1);
        assert.equal(current[0]?.id, claimsOf(me.tokens.access_token).sid);
        for (const x of list.body)
          assert.deepEqual(Object.keys(x).sort(), [
            'created_at',
            'current',
            'id',
            'ip',
            'last_used_at',
            'user_agent',
          ]);

        const secondSid = claimsOf(second.access_token).sid as string;
        assert.equal(
          (
            await api.del(`/users/me/sessions/${secondSid}`, undefined, {
              token: me.tokens.access_token,
            })
          ).status,
          204,
        );
        assert.equal((await api.get('/users/me', { token: second.access_token })).status, 401);
        assert.equal((await api.get('/users/me', { token: third.access_token })).status, 200);

        const stranger = await registerAndLogin(api);
        const foreign = await api.del(
          `/users/me/sessions/${claimsOf(stranger.tokens.access_token).sid}`,
          undefined,
          { token: me.tokens.access_token },
        );
        assert.equal(foreign.status, 404);
        assert.equal(
          (await api.get('/users/me', { token: stranger.tokens.access_token })).status,
          200,
        );

        assert.equal(
          (await api.del('/users/me/sessions', undefined, { token: me.tokens.access_token }))
            .status,
          204,
        );
        assert.equal((await api.get('/users/me', { token: third.access_token })).status, 401);
        assert.equal((await api.get('/users/me', { token: me.tokens.access_token })).status, 200);
        const left = await api.get<unknown[]>('/users/me/sessions', {
          token: me.tokens.access_token,
        });
        assert.equal(left.body.length, 1);
      });
    });

    describe('GET /users/{username}', () => {
      it('answers self, refuses others with 403 whether or not they exist, and gives superusers 404', async () => {
        const me = await registerAndLogin(api);
        const other = await registerAndLogin(api);
        assert.equal(
          (await api.get(`/users/${me.username}`, { token: me.tokens.access_token })).status,
          200,
        );
        assert.equal(
          (await api.get(`/users/${other.username}`, { token: me.tokens.access_token })).status,
          403,
        );
        assert.equal(
          (await api.get('/users/nobody-at-all', { token: me.tokens.access_token })).status,
          403,
        );
        const admin = await superuser(server, api);
        const seen = await api.get(`/users/${other.username}`, {
          token: admin.tokens.access_token,
        });
        assert.equal(seen.status, 200);
        assert.equal(seen.body.id, other.id);
        assert.equal(
          (await api.get('/users/nobody-at-all', { token: admin.tokens.access_token })).status,
          404,
        );
        assert.equal((await api.get(`/users/${me.username}`)).status, 401);
      });
    });
  });
}

describe('POST /token with HTTP Basic client credentials (as Swagger UI sends them)', () => {
  it('accepts an empty secret and refuses a secret or malformed credentials', async () => {
    const server = await startServer();
    try {
      const api = client(server.url);
      const who = newIdentity();
      await api.post('/register', who);
      const basic = (value: string) => ({
        authorization: `Basic ${Buffer.from(value).toString('base64')}`,
      });
      const body = {
        grant_type: 'password',
        username: who.username,
        password: who.password,
        scope: '',
      };
      const empty = await api.post('/token', body, { form: true, headers: basic(':') });
      assert.equal(empty.status, 200, empty.text);
      const named = await api.post('/token', body, { form: true, headers: basic('swagger-ui:') });
      assert.equal(claimsOf(named.body.access_token as string).client_id, 'swagger-ui');
      const secret = await api.post('/token', body, { form: true, headers: basic('app:s3cret') });
      assert.equal(secret.status, 401);
      assert.equal(secret.body.error, 'invalid_client');
      const malformed = await api.post('/token', body, { form: true, headers: basic('%E0%A4%A:') });
      assert.equal(malformed.status, 401);
    } finally {
      await server.close();
    }
  });
});
