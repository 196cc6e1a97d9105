// Users migrated from a FastAPI app keep their passlib hashes: they log in, and the hash is upgraded
// to argon2id on that login. The hashes come from passlib (test/fixtures/make-legacy-hashes.py).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { register } from '../../src/auth/accounts/index.ts';
import { client, login, newIdentity } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

interface Case {
  label: string;
  hash: string;
  password: string;
  wrong: string;
}
const fixtures = JSON.parse(
  readFileSync(new URL('../fixtures/legacy-hashes.json', import.meta.url), 'utf8'),
) as { cases: Case[] };
const cases = fixtures.cases.filter((c) => /^bcrypt-2[aby]$|^argon2id/.test(c.label));

for (const db of testDatabases()) {
  describe(`legacy password hashes on ${db}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({ db });
    });
    after(() => server.close());

    for (const c of cases) {
      it(`${c.label}: logs in, refuses the wrong password, and is rehashed to argon2id`, async () => {
        const api = client(server.url);
        const who = newIdentity('legacy');
        const user = await register(server.app.services, {
          ...who,
          password: c.password,
          passwordHash: c.hash,
        });
        assert.equal(
          (await api.post('/token', { username: who.username, password: c.wrong }, { form: true }))
            .status,
          400,
        );
        assert.equal(
          (await server.app.services.store.users.findById(user.id))?.passwordHash,
          c.hash,
          'untouched by a failed login',
        );
        const tokens = await login(api, who.username, c.password);
        assert.equal((await api.get('/users/me', { token: tokens.access_token })).status, 200);
        const upgraded =
          (await server.app.services.store.users.findById(user.id))?.passwordHash ?? '';
        assert.match(upgraded, /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
        await login(api, who.username, c.password);
      });
    }
  });
}
