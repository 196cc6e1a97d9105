// Expired sessions and deny-list entries are swept; live ones are kept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sweepExpired } from '../../src/auth/sessions/index.ts';
import { claimsOf } from '../support/fixtures.ts';
import { client, login, registerAndLogin } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer } from '../support/server.ts';

for (const db of testDatabases()) {
  describe(`housekeeping on ${db}`, () => {
    it('deletes sessions past their idle lifetime and revocations past every token they cover', async () => {
      const server = await startServer({ db });
      try {
        const api = client(server.url);
        const store = server.app.services.store;
        const old = await registerAndLogin(api);
        await api.post('/logout', undefined, { token: old.tokens.access_token });
        server.clock.advance(8 * 86_400_000);
        const fresh = await login(api, old.username, old.password);
        await sweepExpired(store, server.clock());
        assert.equal(
          await store.sessions.findById(claimsOf(old.tokens.access_token).sid as string),
          undefined,
        );
        assert.ok(await store.sessions.findById(claimsOf(fresh.access_token).sid as string));
        assert.deepEqual(await store.revocations.listActive(0), []);
        assert.equal((await api.get('/users/me', { token: fresh.access_token })).status, 200);
      } finally {
        await server.close();
      }
    });
  });
}
