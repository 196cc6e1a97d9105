// Regression (found by test/fuzz): a U+0000 in a value that the server looks up (a path id, a login
// name, a search or audit filter) reached PostgreSQL, which refuses NUL in text, and the request
// failed with a 500. Requests are now refused before validation (server/input.ts), and the
// repositories answer such a lookup as "not found" (store/text.ts) for callers that bypass HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { superuser } from '../support/fixtures.ts';
import { client, registerAndLogin } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

type Who = 'user' | 'admin' | undefined;
// [method, path, body, caller, form-encoded]
const PROBES: Array<[string, string, unknown, Who, boolean?]> = [
  ['GET', '/users/%00', undefined, 'user'],
  ['GET', '/users/a%00b', undefined, 'admin'],
  ['DELETE', '/users/me/sessions/%00', undefined, 'user'],
  ['PATCH', '/admin/users/%00', { is_active: true }, 'admin'],
  ['DELETE', '/admin/users/%00', undefined, 'admin'],
  ['GET', '/admin/users?q=%00', undefined, 'admin'],
  ['GET', '/admin/audit?user=%00', undefined, 'admin'],
  ['GET', '/admin/audit?actor=a%00&subject=%00', undefined, 'admin'],
  ['POST', '/token', { username: 'x\u0000', password: 'a password' }, undefined, true],
  ['POST', '/token', { username: 'x\u0000@example.com', password: 'a password' }, undefined, true],
  ['POST', '/revoke', { token: 'a\u0000' }, undefined, true],
  ['POST', '/refresh', { refresh_token: 'a\u0000' }, undefined],
];

for (const db of testDatabases()) {
  describe(`NUL in looked-up values on ${db}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({ db });
    });
    after(() => server.close());

    it('is refused with a 4xx over HTTP, never a 500', async () => {
      const api = client(server.url);
      const user = await registerAndLogin(api, 'nul');
      const admin = await superuser(server, api);
      for (const [method, path, body, who, form] of PROBES) {
        const token =
          who === 'admin'
            ? admin.tokens.access_token
            : who === 'user'
              ? user.tokens.access_token
              : undefined;
        const answer = await api.request(method, path, body, { token, form });
        const where = `${method} ${path} ${JSON.stringify(body) ?? ''}: ${answer.text}`;
        assert.ok(answer.status >= 400 && answer.status < 500, where);
      }
    });

    it('is "not found" in the repositories (for callers that do not come through HTTP)', async () => {
      const store = server.app.services.store;
      assert.equal(await store.users.findByUsernameNorm('a\u0000'), undefined);
      assert.equal(await store.users.findByEmailNorm('a\u0000@example.com'), undefined);
      assert.equal(await store.users.findById('\u0000'), undefined);
      assert.deepEqual(await store.users.list({ limit: 5, q: '\u0000' }), []);
      assert.equal(await store.sessions.findById('\u0000'), undefined);
      assert.deepEqual(await store.audit.list({ limit: 5, userId: '\u0000' }), []);
    });
  });
}
