// Black-box tests of the OAuth client registry of the admin API (GET/POST /admin/clients,
// GET/PATCH/DELETE /admin/clients/{client_id}, POST …/secret), on every selected database:
// exact answers, the secret shown once and never again (not in GET answers, not in the audit
// log), deleting a client ending its sessions at once, and hostile input refused with a 4xx.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Account, superuser } from '../support/fixtures.ts';
import { type Answer, type Client, client, registerAndLogin } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

const CLIENT_FIELDS = [
  'client_id',
  'client_secret',
  'created_at',
  'first_party',
  'grant_types',
  'id_token_signed_response_alg',
  'name',
  'post_logout_redirect_uris',
  'redirect_uris',
  'scope',
  'token_endpoint_auth_method',
].sort();
const VIEW_FIELDS = CLIENT_FIELDS.filter((f) => f !== 'client_secret');

interface ClientBody {
  client_id: string;
  client_secret?: string;
  name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  scope: string;
  token_endpoint_auth_method: string;
  id_token_signed_response_alg: string;
  first_party: boolean;
  created_at: string;
}

function assertProblem(
  answer: Answer<unknown>,
  status: number,
  code: string,
  field?: string,
): void {
  const body = answer.body as Record<string, unknown>;
  assert.equal(answer.status, status, answer.text);
  assert.equal(body.code, code, answer.text);
  if (field !== undefined) {
    const fields = ((body.errors ?? []) as Array<{ field: string }>).map((e) => e.field);
    assert.ok(fields.includes(field), `expected an error on ${field}: ${answer.text}`);
  }
}

for (const db of testDatabases()) {
  describe(`the client registry of the admin API, on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    let admin: Account;
    const secrets: string[] = [];
    const create = (body: Record<string, unknown>) =>
      api.post<ClientBody>('/admin/clients', body, { token: admin.tokens.access_token });

    before(async () => {
      server = await startServer({ db });
      api = client(server.url);
      admin = await superuser(server, api);
    });
    after(() => server.close());

    it('POST registers a public client: 201 with exactly the client fields, defaults filled, no secret', async () => {
      const answer = await create({
        name: 'My SPA',
        redirect_uris: ['https://spa.example/callback', 'http://127.0.0.1/cb'],
      });
      assert.equal(answer.status, 201, answer.text);
      assert.deepEqual(Object.keys(answer.body).sort(), VIEW_FIELDS);
      const c = answer.body;
      assert.match(c.client_id, /^[A-Za-z0-9_-]{22,}$/);
      assert.equal(c.name, 'My SPA');
      assert.deepEqual(c.redirect_uris, ['https://spa.example/callback', 'http://127.0.0.1/cb']);
      assert.deepEqual(c.post_logout_redirect_uris, []);
      assert.deepEqual(c.grant_types, ['authorization_code', 'refresh_token']);
      assert.equal(c.token_endpoint_auth_method, 'none');
      assert.equal(c.id_token_signed_response_alg, 'RS256');
      assert.equal(c.first_party, false);
      assert.ok(c.scope.split(' ').includes('openid'));
      assert.equal(new Date(c.created_at).toISOString(), c.created_at);
    });

    it('POST registers a confidential client: its client_secret (≥ 32 random characters) only in the 201', async () => {
      const answer = await create({
        name: 'Backend',
        redirect_uris: ['https://backend.example/cb'],
        post_logout_redirect_uris: ['https://backend.example/bye'],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        scope: 'openid read write',
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: 'ES256',
        first_party: true,
      });
      assert.equal(answer.status, 201, answer.text);
      assert.deepEqual(Object.keys(answer.body).sort(), CLIENT_FIELDS);
      const secret = answer.body.client_secret as string;
      assert.ok(secret.length >= 32, secret);
      secrets.push(secret);
      assert.equal(answer.body.scope, 'openid read write');
      assert.equal(answer.body.token_endpoint_auth_method, 'client_secret_post');
      assert.equal(answer.body.id_token_signed_response_alg, 'ES256');
      assert.equal(answer.body.first_party, true);

      const other = await create({
        name: 'Other',
        redirect_uris: ['https://o.example/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      assert.equal(other.status, 201, other.text);
      assert.notEqual(other.body.client_secret, secret);
      assert.notEqual(other.body.client_id, answer.body.client_id);
      secrets.push(other.body.client_secret as string);

      const shown = await api.get<ClientBody>(`/admin/clients/${answer.body.client_id}`, {
        token: admin.tokens.access_token,
      });
      assert.equal(shown.status, 200, shown.text);
      assert.deepEqual(Object.keys(shown.body).sort(), VIEW_FIELDS);
      const { client_secret: _, ...view } = answer.body;
      assert.deepEqual(shown.body, view);
    });

    it('GET /admin/clients pages with limit and next_cursor, every client once, no secrets', async () => {
      for (let i = 0; i < 5; i += 1) {
        const made = await create({ name: `paged ${i}`, redirect_uris: ['https://p.example/cb'] });
        assert.equal(made.status, 201, made.text);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor === null ? 'limit=2' : `limit=2&cursor=${cursor}`;
        const page: Answer<{ items: ClientBody[]; next_cursor: string | null }> = await api.get(
          `/admin/clients?${query}`,
          { token: admin.tokens.access_token },
        );
        assert.equal(page.status, 200, page.text);
        assert.deepEqual(Object.keys(page.body).sort(), ['items', 'next_cursor']);
        assert.ok(page.body.items.length <= 2);
        for (const item of page.body.items) assert.deepEqual(Object.keys(item).sort(), VIEW_FIELDS);
        for (const secret of secrets) assert.ok(!page.text.includes(secret), 'a secret in a list');
        seen.push(...page.body.items.map((c) => c.client_id));
        cursor = page.body.next_cursor;
        pages += 1;
      } while (cursor !== null && pages < 20);
      assert.equal(cursor, null);
      assert.ok(seen.length >= 8, `seen ${seen.length}`);
      assert.deepEqual(seen, [...seen].sort(), 'in client_id order');
      assert.equal(new Set(seen).size, seen.length, 'no client twice');
      const bad = await api.get('/admin/clients?cursor=bm90IGEgY3Vyc29yIQ', {
        token: admin.tokens.access_token,
      });
      assertProblem(bad, 422, 'validation_failed', 'cursor');
      const badLimit = await api.get('/admin/clients?limit=0', {
        token: admin.tokens.access_token,
      });
      assertProblem(badLimit, 422, 'validation_failed');
    });

    it('GET and DELETE of an unknown client_id are 404 not_found', async () => {
      const token = admin.tokens.access_token;
      assertProblem(await api.get('/admin/clients/nope', { token }), 404, 'not_found');
      assertProblem(await api.del('/admin/clients/nope', undefined, { token }), 404, 'not_found');
      assertProblem(
        await api.patch('/admin/clients/nope', { name: 'x' }, { token }),
        404,
        'not_found',
      );
      assertProblem(
        await api.post('/admin/clients/nope/secret', undefined, { token }),
        404,
        'not_found',
      );
    });

    it('PATCH changes only the given fields (200 with the client); an empty or invalid patch is 422', async () => {
      const token = admin.tokens.access_token;
      const made = await create({ name: 'Before', redirect_uris: ['https://a.example/cb'] });
      const id = made.body.client_id;
      const patched = await api.patch<ClientBody>(
        `/admin/clients/${id}`,
        { name: 'After', post_logout_redirect_uris: ['https://a.example/bye'], first_party: true },
        { token },
      );
      assert.equal(patched.status, 200, patched.text);
      assert.deepEqual(patched.body, {
        ...made.body,
        name: 'After',
        post_logout_redirect_uris: ['https://a.example/bye'],
        first_party: true,
      });
      assertProblem(
        await api.patch(`/admin/clients/${id}`, {}, { token }),
        422,
        'validation_failed',
      );
      assertProblem(
        await api.patch(
          `/admin/clients/${id}`,
          { redirect_uris: ['https://a.example/cb#x'] },
          { token },
        ),
        422,
        'validation_failed',
        'redirect_uris.0',
      );
      // client_credentials needs a secret; the public client keeps its grants.
      assertProblem(
        await api.patch(`/admin/clients/${id}`, { grant_types: ['client_credentials'] }, { token }),
        422,
        'validation_failed',
        'grant_types',
      );
      const shown = await api.get<ClientBody>(`/admin/clients/${id}`, { token });
      assert.deepEqual(shown.body, patched.body);
    });

    it('POST …/secret gives a confidential client a new secret (200 {client_secret}); a public client is 409', async () => {
      const token = admin.tokens.access_token;
      const made = await create({
        name: 'Rotating',
        redirect_uris: ['https://r.example/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      const first = made.body.client_secret as string;
      const rotated = await api.post<{ client_secret: string }>(
        `/admin/clients/${made.body.client_id}/secret`,
        undefined,
        { token },
      );
      assert.equal(rotated.status, 200, rotated.text);
      assert.deepEqual(Object.keys(rotated.body), ['client_secret']);
      assert.ok(rotated.body.client_secret.length >= 32);
      assert.notEqual(rotated.body.client_secret, first);
      secrets.push(first, rotated.body.client_secret);
      const { verifyClientSecret } = await import('../../src/auth/clients/index.ts');
      const s = server.app.services;
      assert.equal(
        await verifyClientSecret(s, made.body.client_id, first),
        undefined,
        'old secret dead',
      );
      assert.equal(
        (await verifyClientSecret(s, made.body.client_id, rotated.body.client_secret))?.clientId,
        made.body.client_id,
      );
      assert.equal(
        await verifyClientSecret(s, made.body.client_id, `${rotated.body.client_secret}x`),
        undefined,
      );

      const pub = await create({ name: 'Public', redirect_uris: ['https://pub.example/cb'] });
      assertProblem(
        await api.post(`/admin/clients/${pub.body.client_id}/secret`, undefined, { token }),
        409,
        'client_not_confidential',
      );
    });

    it('PATCH to a confidential method issues the first secret once (200 with client_secret); back to none drops it', async () => {
      const token = admin.tokens.access_token;
      const made = await create({ name: 'Switching', redirect_uris: ['https://sw.example/cb'] });
      const id = made.body.client_id;
      const up = await api.patch<ClientBody>(
        `/admin/clients/${id}`,
        { token_endpoint_auth_method: 'client_secret_post' },
        { token },
      );
      assert.equal(up.status, 200, up.text);
      assert.deepEqual(Object.keys(up.body).sort(), CLIENT_FIELDS);
      const secret = up.body.client_secret as string;
      assert.ok(secret.length >= 32);
      secrets.push(secret);
      const { verifyClientSecret } = await import('../../src/auth/clients/index.ts');
      const s = server.app.services;
      assert.equal((await verifyClientSecret(s, id, secret))?.clientId, id);
      const basic = await api.patch<ClientBody>(
        `/admin/clients/${id}`,
        { token_endpoint_auth_method: 'client_secret_basic' },
        { token },
      );
      assert.equal(basic.status, 200, basic.text);
      assert.deepEqual(
        Object.keys(basic.body).sort(),
        VIEW_FIELDS,
        'no new secret: it keeps its own',
      );
      assert.equal((await verifyClientSecret(s, id, secret))?.clientId, id);
      const down = await api.patch<ClientBody>(
        `/admin/clients/${id}`,
        { token_endpoint_auth_method: 'none' },
        { token },
      );
      assert.equal(down.status, 200, down.text);
      assert.deepEqual(Object.keys(down.body).sort(), VIEW_FIELDS);
      assert.equal(
        await verifyClientSecret(s, id, secret),
        undefined,
        'a public client has no secret',
      );
    });

    it('DELETE ends the sessions of that client at once: 204, its access token 401, its refresh 400, others untouched', async () => {
      const token = admin.tokens.access_token;
      // First-party: the operator's own app may use the password grant (third-party ones may not).
      const made = await create({
        name: 'Doomed',
        redirect_uris: ['https://d.example/cb'],
        first_party: true,
      });
      const id = made.body.client_id;
      const user = await registerAndLogin(api, 'clientuser');
      const viaClient = await api.post<{ access_token: string; refresh_token: string }>(
        '/token',
        { grant_type: 'password', username: user.username, password: user.password, client_id: id },
        { form: true },
      );
      assert.equal(viaClient.status, 200, viaClient.text);
      assert.equal(
        (await api.get('/users/me', { token: viaClient.body.access_token })).status,
        200,
      );

      const deleted = await api.del(`/admin/clients/${id}`, undefined, { token });
      assert.equal(deleted.status, 204, deleted.text);
      assert.equal(deleted.text, '');

      const me = await api.get('/users/me', { token: viaClient.body.access_token });
      assert.equal(me.status, 401, me.text);
      const refreshed = await api.post(
        '/token',
        { grant_type: 'refresh_token', refresh_token: viaClient.body.refresh_token },
        { form: true },
      );
      assert.equal(refreshed.status, 400, refreshed.text);
      assert.equal(refreshed.body.error, 'invalid_grant');
      // The user's own session of another client is not that client's.
      assert.equal((await api.get('/users/me', { token: user.tokens.access_token })).status, 200);
      assertProblem(await api.get(`/admin/clients/${id}`, { token }), 404, 'not_found');
      assertProblem(await api.del(`/admin/clients/${id}`, undefined, { token }), 404, 'not_found');
    });

    it('a non-superuser gets 403 and no token 401 on every client route', async () => {
      const user = await registerAndLogin(api, 'plain');
      const made = await create({ name: 'Guarded', redirect_uris: ['https://g.example/cb'] });
      const id = made.body.client_id;
      const calls: Array<[string, string, unknown]> = [
        ['GET', '/admin/clients', undefined],
        ['POST', '/admin/clients', { name: 'x', redirect_uris: ['https://x.example/cb'] }],
        ['GET', `/admin/clients/${id}`, undefined],
        ['PATCH', `/admin/clients/${id}`, { name: 'y' }],
        ['DELETE', `/admin/clients/${id}`, undefined],
        ['POST', `/admin/clients/${id}/secret`, undefined],
      ];
      for (const [method, path, body] of calls) {
        const forbidden = await api.request(method, path, body, {
          token: user.tokens.access_token,
        });
        assert.equal(forbidden.status, 403, `${method} ${path}: ${forbidden.text}`);
        const anonymous = await api.request(method, path, body);
        assert.equal(anonymous.status, 401, `${method} ${path}: ${anonymous.text}`);
      }
      const still = await api.get<ClientBody>(`/admin/clients/${id}`, {
        token: admin.tokens.access_token,
      });
      assert.equal(still.status, 200);
      assert.equal(still.body.name, 'Guarded');
    });

    describe('hostile registrations are 422 validation_failed naming the field', () => {
      const cases: Array<[string, Record<string, unknown>, string]> = [
        ['a fragment', { redirect_uris: ['https://a.example/cb#frag'] }, 'redirect_uris.0'],
        ['an empty fragment', { redirect_uris: ['https://a.example/cb#'] }, 'redirect_uris.0'],
        ['a relative URI', { redirect_uris: ['/callback'] }, 'redirect_uris.0'],
        ['a non-URL', { redirect_uris: ['not a url'] }, 'redirect_uris.0'],
        ['javascript:', { redirect_uris: ['javascript:alert(1)'] }, 'redirect_uris.0'],
        ['data:', { redirect_uris: ['data:text/html,hi'] }, 'redirect_uris.0'],
        [
          'plain http off loopback',
          { redirect_uris: ['http://app.example/cb'] },
          'redirect_uris.0',
        ],
        ['userinfo', { redirect_uris: ['https://app.example@evil.example/cb'] }, 'redirect_uris.0'],
        [
          'a second bad URI',
          { redirect_uris: ['https://ok.example/cb', 'ftp://x.example/'] },
          'redirect_uris.1',
        ],
        [
          'a bad post-logout URI',
          { redirect_uris: ['https://ok.example/cb'], post_logout_redirect_uris: ['#x'] },
          'post_logout_redirect_uris.0',
        ],
        ['a tab in a URI', { redirect_uris: ['https://a.example/c\tb'] }, 'redirect_uris.0'],
        ['an unknown grant', { grant_types: ['password'] }, 'grant_types.0'],
        ['implicit', { grant_types: ['implicit'] }, 'grant_types.0'],
        [
          'client_credentials on a public client',
          { grant_types: ['client_credentials'] },
          'grant_types',
        ],
        ['no grant', { grant_types: [] }, 'grant_types'],
        ['authorization_code without a redirect URI', { redirect_uris: [] }, 'redirect_uris'],
        ['an unknown scope', { scope: 'read root' }, 'scope'],
        [
          'an unknown auth method',
          { token_endpoint_auth_method: 'private_key_jwt' },
          'token_endpoint_auth_method',
        ],
        [
          'an unknown alg',
          { id_token_signed_response_alg: 'HS256' },
          'id_token_signed_response_alg',
        ],
        ['an empty name', { name: '' }, 'name'],
        ['a blank name', { name: '   ' }, 'name'],
        ['a 101-character name', { name: 'x'.repeat(101) }, 'name'],
        ['a control character in the name', { name: 'a\u0007b' }, 'name'],
        [
          'a 2001-character URI',
          { redirect_uris: [`https://a.example/${'x'.repeat(1983)}`] },
          'redirect_uris.0',
        ],
        [
          '21 redirect URIs',
          { redirect_uris: Array.from({ length: 21 }, (_, i) => `https://a.example/${i}`) },
          'redirect_uris',
        ],
        ['a name that is a number', { name: 42 }, 'name'],
        ['redirect_uris as a string', { redirect_uris: 'https://a.example/cb' }, 'redirect_uris'],
        ['first_party as a string', { first_party: 'yes' }, 'first_party'],
        ['no name', { name: undefined }, 'name'],
      ];
      for (const [what, change, field] of cases) {
        it(`${what} → 422 on ${field}, nothing registered`, async () => {
          const body = { name: 'Hostile', redirect_uris: ['https://ok.example/cb'], ...change };
          const before = await api.get<{ items: unknown[] }>('/admin/clients?limit=200', {
            token: admin.tokens.access_token,
          });
          const answer = await create(body);
          assertProblem(answer, 422, 'validation_failed', field);
          const afterList = await api.get<{ items: unknown[] }>('/admin/clients?limit=200', {
            token: admin.tokens.access_token,
          });
          assert.equal(afterList.body.items.length, before.body.items.length);
        });
      }

      it('a NUL in the name is 422; in a URI 422; in a path client_id 422 on client_id (the server-wide check); never a 5xx', async () => {
        const token = admin.tokens.access_token;
        assertProblem(
          await create({ name: 'a\u0000b', redirect_uris: ['https://a.example/cb'] }),
          422,
          'validation_failed',
          'name',
        );
        assertProblem(
          await create({ name: 'n', redirect_uris: ['https://a.example/c\u0000b'] }),
          422,
          'validation_failed',
          'redirect_uris.0',
        );
        assertProblem(
          await create({ name: 'n', redirect_uris: ['https://a.example/cb'], scope: 'read\u0000' }),
          422,
          'validation_failed',
          'scope',
        );
        assertProblem(
          await api.get('/admin/clients/a%00b', { token }),
          422,
          'validation_failed',
          'client_id',
        );
        assertProblem(
          await api.patch('/admin/clients/a%00b', { name: 'x' }, { token }),
          422,
          'validation_failed',
          'client_id',
        );
        assertProblem(
          await api.del('/admin/clients/a%00b', undefined, { token }),
          422,
          'validation_failed',
          'client_id',
        );
        assertProblem(
          await api.post('/admin/clients/a%00b/secret', undefined, { token }),
          422,
          'validation_failed',
          'client_id',
        );
        assertProblem(
          await api.get('/admin/clients?cursor=YQBi', { token }),
          422,
          'validation_failed',
          'cursor',
        );
        assertProblem(
          await api.get(`/admin/clients/${'x'.repeat(65)}`, { token }),
          422,
          'validation_failed',
        );
      });

      it('loopback http is accepted on 127.0.0.1, [::1] and localhost, any port', async () => {
        const answer = await create({
          name: 'Native',
          redirect_uris: [
            'http://127.0.0.1:51234/cb',
            'http://[::1]/cb',
            'http://localhost:8080/cb',
          ],
        });
        assert.equal(answer.status, 201, answer.text);
      });
    });

    it('the audit log records client.create, client.update, client.secret_rotate and client.delete, never a secret', async () => {
      const page = await api.get<{ items: Array<{ type: string }> }>(
        '/admin/audit?type=client.create,client.update,client.delete,client.secret_rotate&limit=200',
        { token: admin.tokens.access_token },
      );
      assert.equal(page.status, 200, page.text);
      const types = new Set(page.body.items.map((e) => e.type));
      assert.deepEqual([...types].sort(), [
        'client.create',
        'client.delete',
        'client.secret_rotate',
        'client.update',
      ]);
      assert.ok(secrets.length >= 4);
      const all = await api.get('/admin/audit?limit=200', { token: admin.tokens.access_token });
      for (const secret of secrets)
        assert.ok(!all.text.includes(secret), 'a secret in the audit log');
      const { rows } = await server.app.services.store.audit
        .list({ limit: 1000 })
        .then((r) => ({ rows: r }));
      for (const secret of secrets) assert.ok(!JSON.stringify(rows).includes(secret));
    });
  });
}
