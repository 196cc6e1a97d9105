// Every signing algorithm of SPEC §2 issues tokens that verify, with the JWKS each one implies.
import assert from 'node:assert/strict';
import { createSecretKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { importJWK, type JWK, jwtVerify } from 'jose';
import { headerOf } from '../support/fixtures.ts';
import { client, registerAndLogin } from '../support/http.ts';
import { startServer } from '../support/server.ts';

const SECRET = 'a-test-secret-of-at-least-thirty-two-bytes';

describe('signing algorithms', () => {
  for (const alg of ['ES256', 'RS256', 'EdDSA', 'HS256'] as const) {
    it(`${alg}: tokens verify at /users/me and with an outside verifier`, async () => {
      const server = await startServer({ env: { ALGORITHM: alg, SECRET_KEY: SECRET } });
      try {
        const api = client(server.url);
        const user = await registerAndLogin(api);
        const header = headerOf(user.tokens.access_token);
        assert.equal(header.alg, alg);
        assert.equal(header.typ, 'at+jwt');
        assert.equal((await api.get('/users/me', { token: user.tokens.access_token })).status, 200);
        const jwks = await api.get<{ keys: Array<JWK & { kid: string }> }>(
          '/.well-known/jwks.json',
        );
        let key: Awaited<ReturnType<typeof importJWK>> | ReturnType<typeof createSecretKey>;
        if (alg === 'HS256') {
          // A symmetric key is never published; resource servers share SECRET_KEY (as PyJWT does).
          assert.deepEqual(jwks.body.keys, []);
          key = createSecretKey(Buffer.from(SECRET, 'utf8'));
        } else {
          const jwk = jwks.body.keys.find((k) => k.kid === header.kid);
          assert.ok(jwk, 'the signing key is published');
          assert.equal(jwk.alg, alg);
          key = await importJWK(jwk, alg);
        }
        const { payload } = await jwtVerify(user.tokens.access_token, key, {
          algorithms: [alg],
          issuer: 'http://localhost:8000',
          audience: 'http://localhost:8000',
          typ: 'at+jwt',
        });
        assert.equal(payload.sub, user.id);
      } finally {
        await server.close();
      }
    });
  }
});
