// The guard against a real running Portcullis: Fastify plugin, Express/Connect middleware, the plain
// function, scopes, public paths, HS256, and a key rotated on the server.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, relative, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  createVerifier,
  expressGuard,
  fastifyGuard,
  type GuardedRequest,
  scopeGuard,
} from '../../src/guard/index.ts';
import { rotateSigningKey } from '../../src/tokens/keys.ts';
import { headerOf, superuser, wait } from '../support/fixtures.ts';
import { type Client, client, login, registerAndLogin } from '../support/http.ts';
import { startServer, type TestServer } from '../support/server.ts';

describe('guard (JWKS) against a running Portcullis', () => {
  let portcullis: TestServer;
  let api: Client;
  let service: FastifyInstance;
  let serviceApi: Client;
  let connect: Server;
  let connectApi: Client;
  const revoked = new Set<string>();

  before(async () => {
    portcullis = await startServer();
    api = client(portcullis.url);
    const verifier = createVerifier({
      issuer: 'http://localhost:8000',
      jwksUri: `${portcullis.url}/.well-known/jwks.json`,
      isRevoked: (claims) => revoked.has(claims.sid),
      jwksCooldownMs: 200,
    });
    service = Fastify();
    await service.register(fastifyGuard, { verifier, publicPaths: ['/public', '/health/*'] });
    service.get('/public', async () => ({ ok: true }));
    service.get('/health/live', async () => ({ ok: true }));
    service.get('/me', async (request) => ({
      sub: request.auth?.sub,
      scopes: request.auth?.scopes,
    }));
    service.get('/admin', { preHandler: scopeGuard('admin') }, async () => ({ admin: true }));
    serviceApi = client(await service.listen({ host: '127.0.0.1', port: 0 }));

    const middleware = expressGuard({ verifier, publicPaths: ['/'], scopes: ['read'] });
    connect = createServer((req: GuardedRequest, res) => {
      middleware(req, res, (error?: unknown) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(error ? { error: String(error) } : { sub: req.auth?.sub ?? null }));
      });
    });
    await new Promise<void>((resolve) => connect.listen(0, '127.0.0.1', resolve));
    connectApi = client(`http://127.0.0.1:${(connect.address() as AddressInfo).port}`);
  });
  after(async () => {
    await service.close();
    connect.close();
    await portcullis.close();
  });

  it('lets a valid token through with its claims, and public paths without one', async () => {
    const user = await registerAndLogin(api);
    const me = await serviceApi.get('/me', { token: user.tokens.access_token });
    assert.equal(me.status, 200);
    assert.equal(me.body.sub, user.id);
    assert.deepEqual(me.body.scopes, ['read', 'write']);
    assert.equal((await serviceApi.get('/public')).status, 200);
    assert.equal((await serviceApi.get('/health/live')).status, 200);
  });

  it('answers 401 with a Bearer challenge for no token, a bad token and a revoked session', async () => {
    const none = await serviceApi.get('/me');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal((await serviceApi.get('/me', { token: 'x.y.z' })).status, 401);
    const user = await registerAndLogin(api);
    const forged = `${user.tokens.access_token.slice(0, -4)}AAAA`;
    assert.equal((await serviceApi.get('/me', { token: forged })).status, 401);
    revoked.add(
      String(
        (await serviceApi.get('/me', { token: user.tokens.access_token })).status === 200 &&
          JSON.parse(
            Buffer.from(user.tokens.access_token.split('.')[1] ?? '', 'base64url').toString(),
          ).sid,
      ),
    );
    assert.equal((await serviceApi.get('/me', { token: user.tokens.access_token })).status, 401);
  });

  it('requires scopes: 403 insufficient_scope for users, superusers pass', async () => {
    const user = await registerAndLogin(api);
    const refused = await serviceApi.get('/admin', { token: user.tokens.access_token });
    assert.equal(refused.status, 403);
    assert.match(refused.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    const admin = await superuser(portcullis, api);
    assert.equal(
      (await serviceApi.get('/admin', { token: admin.tokens.access_token })).status,
      200,
    );
  });

  it('works as Express/Connect middleware with a required scope', async () => {
    const user = await registerAndLogin(api);
    const ok = await connectApi.get('/anything', { token: user.tokens.access_token });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.sub, user.id);
    assert.equal((await connectApi.get('/anything')).status, 401);
    assert.equal((await connectApi.get('/')).status, 200, 'public');
    const writeOnly = await login(api, user.username, user.password, 'write');
    assert.equal(
      (await connectApi.get('/anything', { token: writeOnly.access_token })).status,
      403,
    );
  });

  it('picks up a key rotated on the server (new kid fetched from the JWKS)', async () => {
    const user = await registerAndLogin(api);
    assert.equal((await serviceApi.get('/me', { token: user.tokens.access_token })).status, 200);
    const s = portcullis.app.services;
    const [fresh] = await rotateSigningKey({
      store: s.store,
      algorithm: 'ES256',
      secretKey: portcullis.config.secretKey,
      accessTokenTtlSeconds: 900,
      clock: s.clock,
    });
    await s.keys.reload();
    await wait(250); // past the guard's JWKS cooldown
    const after = await login(api, user.username, user.password);
    assert.equal(headerOf(after.access_token).kid, fresh?.kid);
    assert.equal((await serviceApi.get('/me', { token: after.access_token })).status, 200);
    assert.equal((await serviceApi.get('/me', { token: user.tokens.access_token })).status, 200);
  });
});

describe('guard (HS256 shared secret)', () => {
  it('verifies with SECRET_KEY and refuses other secrets', async () => {
    const secret = 'shared-secret-of-the-services-0123456789';
    const portcullis = await startServer({ env: { ALGORITHM: 'HS256', SECRET_KEY: secret } });
    try {
      const user = await registerAndLogin(client(portcullis.url));
      const good = createVerifier({ issuer: 'http://localhost:8000', secret });
      assert.equal((await good.verify(user.tokens.access_token)).sub, user.id);
      const bad = createVerifier({ issuer: 'http://localhost:8000', secret: `${secret}x` });
      await assert.rejects(bad.verify(user.tokens.access_token), /invalid/);
      const otherAudience = createVerifier({
        issuer: 'http://localhost:8000',
        audience: 'other',
        secret,
      });
      await assert.rejects(otherAudience.verify(user.tokens.access_token), /invalid/);
    } finally {
      await portcullis.close();
    }
  });
});

describe('guard during a SECRET_KEY rotation (HS256)', () => {
  it('a guard given one secret refused the tokens of the other side of a rotation: given both, it verifies both', async () => {
    const old = 'the old shared secret of the services 0123456789';
    const current = 'the new shared secret of the services 0123456789';
    const first = await startServer({ env: { ALGORITHM: 'HS256', SECRET_KEY: old } });
    try {
      const early = await registerAndLogin(client(first.url));
      await first.app.close();
      const second = await startServer({
        env: { ALGORITHM: 'HS256', SECRET_KEY: current, PREVIOUS_SECRET_KEYS: old },
        reuse: { dataDir: first.dataDir, databaseUrl: first.databaseUrl },
      });
      try {
        const late = await registerAndLogin(client(second.url));
        const issuer = 'http://localhost:8000';
        const both = createVerifier({ issuer, secret: [current, old] });
        assert.equal((await both.verify(early.tokens.access_token)).sub, early.id);
        assert.equal((await both.verify(late.tokens.access_token)).sub, late.id);
        const onlyNew = createVerifier({ issuer, secret: current });
        await assert.rejects(onlyNew.verify(early.tokens.access_token), /invalid/);
        assert.equal((await onlyNew.verify(late.tokens.access_token)).sub, late.id);
        // A secret that signed nothing does not help, wherever it is in the list.
        const wrong = createVerifier({ issuer, secret: [`${current}x`, `${old}x`] });
        await assert.rejects(wrong.verify(early.tokens.access_token), /invalid/);
        await assert.rejects(wrong.verify(late.tokens.access_token), /invalid/);
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
  });
});

describe('the guard ships alone', () => {
  it('imports nothing of src/server, src/store or src/kv, directly or through another module', () => {
    const src = resolve(import.meta.dirname, '../../src');
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const [, spec] of text.matchAll(/\bfrom\s+'(\.[^']+)'/g)) {
        if (spec) visit(resolve(dirname(file), spec));
      }
    };
    visit(resolve(src, 'guard/index.ts'));
    const modules = [...seen].map((file) => relative(src, file)).sort();
    assert.deepEqual(modules, [
      'guard/index.ts',
      'guard/middleware.ts',
      'guard/redis-revocations.ts',
      'guard/verifier.ts',
      'tokens/hmac-kid.ts',
      'tokens/revocation-message.ts',
      'tokens/rules.ts',
    ]);
  });
});
