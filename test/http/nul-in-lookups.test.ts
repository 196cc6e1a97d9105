// Regression (found by test/fuzz): a U+0000 in a value that the server looks up (a path id, a login
// name, a search or audit filter) reached PostgreSQL, which refuses NUL in text, and the request
// failed with a 500. Such a value can match nothing stored: the answer is the one for "not found".
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { superuser } from '../support/fixtures.ts';
import { client, registerAndLogin } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

type Who = 'user' | 'admin' | undefined;
const PROBES: Array<[string, string, unknown, Who, number, boolean?]> = [
  ['GET', '/users/%00', undefined, 'user', 403],
  ['GET', '/users/a%00b', undefined, 'admin', 404],
  ['DELETE', '/users/me/sessions/%00', undefined, 'user', 404],
  ['PATCH', '/admin/users/%00', { is_active: true }, 'admin', 404],
  ['DELETE', '/admin/users/%00', undefined, 'admin', 404],
  ['GET', '/admin/users?q=%00', undefined, 'admin', 200],
  ['GET', '/admin/audit?user=%00', undefined, 'admin', 200],
  ['GET', '/admin/audit?actor=a%00&subject=%00', undefined, 'admin', 200],
  ['POST', '/token', { username: 'x\u0000', password: 'a password' }, undefined, 400, true],
  [
    'POST',
    '/token',
    { username: 'x\u0000@example.com', password: 'a password' },
    undefined,
    400,
    true,
  ],
  ['POST', '/revoke', { token: 'a\u0000' }, undefined, 200, true],
  ['POST', '/refresh', { refresh_token: 'a\u0000' }, undefined, 401],
];

for (const db of testDatabases()) {
  describe(`NUL in looked-up values on ${db}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({ db });
    });
    after(() => server.close());

    it('is answered as not found (or refused), never with a 500', async () => {
      const api = client(server.url);
      const user = await registerAndLogin(api, 'nul');
      const admin = await superuser(server, api);
      for (const [method, path, body, who, status, form] of PROBES) {
        const token =
          who === 'admin'
            ? admin.tokens.access_token
            : who === 'user'
              ? user.tokens.access_token
              : undefined;
        const answer = await api.request(method, path, body, { token, form });
        assert.equal(
          answer.status,
          status,
          `${method} ${path} ${JSON.stringify(body) ?? ''}: ${answer.text}`,
        );
      }
      // The login failure is the ordinary one (same answer as an unknown user).
      const login = await api.post(
        '/token',
        { username: `${user.username}\u0000`, password: user.password },
        { form: true },
      );
      assert.deepEqual(login.body, {
        error: 'invalid_grant',
        error_description: 'Incorrect username or password.',
      });
    });
  });
}
