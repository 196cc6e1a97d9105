// The verified-token cache (src/tokens/verified-cache.ts) seen from outside: a token the server has
// already verified — and so remembers — is still judged in full on everything but its signature.
// A different string never rides on it, revocation and demotion bite at once, the clock still
// decides, and a small or disabled cache changes nothing but speed. On each database.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { superuser } from '../support/fixtures.ts';
import { type Client, client, registerAndLogin, type TokenPair } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { spoil } from './forge.ts';

for (const db of testDatabases()) {
  describe(`verified-token cache on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    const me = (token: string) => api.get('/users/me', { token });

    before(async () => {
      server = await startServer({ db });
      api = client(server.url);
    });
    after(() => server.close());

    it('a remembered token lets no other string through', async () => {
      const user = await registerAndLogin(api);
      const token = user.tokens.access_token;
      assert.equal((await me(token)).status, 200);
      assert.equal((await me(token)).status, 200);
      const [header = '', payload = '', signature = ''] = token.split('.');
      const swap = (s: string, i: number) => spoil(s, i, s[i] === 'A' ? 'B' : 'A');
      const variants = [
        `${header}.${payload}.${swap(signature, 0)}`,
        `${header}.${payload}.${signature.slice(0, -1)}`,
        `${header}.${swap(payload, 10)}.${signature}`,
        `${swap(header, 5)}.${payload}.${signature}`,
        `${header}.${payload}.${signature}A`,
        `${token}.`,
        `${token}${token}`,
        ` ${token}`.trim().toUpperCase(),
      ];
      for (const variant of variants) {
        const answer = await me(variant);
        assert.equal(answer.status, 401, `accepted: ${variant}`);
      }
      assert.equal((await me(token)).status, 200);
    });

    it('logout bites at once on a remembered token', async () => {
      const user = await registerAndLogin(api);
      const token = user.tokens.access_token;
      assert.equal((await me(token)).status, 200);
      assert.equal((await api.post('/logout', undefined, { token })).status, 204);
      assert.equal((await me(token)).status, 401);
    });

    it('demotion bites at once on a remembered superuser token', async () => {
      const boss = await superuser(server, api);
      const other = await superuser(server, api);
      const token = other.tokens.access_token;
      assert.equal((await api.get('/admin/users', { token })).status, 200);
      const demoted = await api.patch(
        `/admin/users/${other.id}`,
        { is_superuser: false },
        { token: boss.tokens.access_token },
      );
      assert.equal(demoted.status, 200);
      // Exactly 401 invalid_token (the token is dead), not merely "not 200": a 500 must fail here.
      const refused = await api.get('/admin/users', { token });
      assert.equal(refused.status, 401, refused.text);
      assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    });

    it('the clock still decides: past exp, and before iat, a remembered token is refused', async () => {
      const user = await registerAndLogin(api);
      const token = user.tokens.access_token;
      assert.equal((await me(token)).status, 200);
      const now = server.clock();
      const ttl = server.config.accessTokenTtlSeconds * 1000;
      try {
        server.clock.set(now + ttl + 6_000);
        assert.equal((await me(token)).status, 401, 'expired token accepted');
        server.clock.set(now - 7_000);
        assert.equal((await me(token)).status, 401, 'token from the future accepted');
      } finally {
        server.clock.set(now);
      }
      assert.equal((await me(token)).status, 200);
    });
  });

  describe(`verified-token cache size on ${db}`, () => {
    for (const size of ['0', '2']) {
      it(`VERIFIED_TOKEN_CACHE_SIZE=${size}: every token keeps working, tampering is refused`, async () => {
        const server = await startServer({ db, env: { VERIFIED_TOKEN_CACHE_SIZE: size } });
        try {
          const api = client(server.url);
          const user = await registerAndLogin(api);
          const tokens = [user.tokens.access_token];
          let pair = user.tokens;
          for (let i = 0; i < 4; i++) {
            pair = (
              await api.post<TokenPair>(
                '/token',
                { grant_type: 'refresh_token', refresh_token: pair.refresh_token },
                { form: true },
              )
            ).body;
            tokens.push(pair.access_token);
          }
          for (let round = 0; round < 3; round++) {
            for (const token of tokens) {
              assert.equal((await api.get('/users/me', { token })).status, 200);
            }
          }
          const last = tokens[0] as string;
          assert.equal((await api.get('/users/me', { token: `${last}x` })).status, 401);
        } finally {
          await server.close();
        }
      });
    }
  });
}
