// Public paths of the guard, through a real Fastify service and a real Express app mounted under
// /api, verifying tokens of a real running Portcullis. Requests are sent byte for byte (node:http,
// not fetch, which would resolve `..` and fold `//` before sending): the guard must match whole
// segments of the full path, and never call public a path that a router could read another way.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { createVerifier, expressGuard, fastifyGuard, isPublic } from '../../src/guard/index.ts';
import { client, registerAndLogin } from '../support/http.ts';
import { MISSING_PG_MESSAGE, pgAdminUrl, testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

interface Raw {
  status: number;
  body: { route?: string; sub?: string | null };
}

/** GET `path` exactly as written (no normalisation), optionally with a bearer token. */
function rawGet(base: string, path: string, token?: string): Promise<Raw> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          let body: Raw['body'] = {};
          try {
            body = JSON.parse(text) as Raw['body'];
          } catch {
            // Not JSON (a framework's own error page): no route served it.
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

// Paths that look public to a prefix match but are not, or could be read two ways: all need a token.
const NOT_PUBLIC = [
  '/publicadmin',
  '/public-admin',
  '/publicadmin/x',
  '/public/../admin',
  '/public/%2e%2e/admin',
  '/public/%2E%2E/admin',
  '/public/.%2e/admin',
  '/public/./x',
  '/public/..%2fadmin',
  '/public%2f..%2fadmin',
  '/public%2Fx',
  '/public/%5c..%5cadmin',
  '/public\\..\\admin',
  '/public//x',
  '//public/x',
  '/public/%00',
  '/public/%252e%252e/admin',
  '/Public/x',
  '/PUBLIC',
  '/health/',
  '/healthz',
  '/HEALTH',
  '/health/../admin',
  '/h%65alth',
];

// Public: the exact path, the listed path and everything below it, with queries and a trailing slash.
const PUBLIC = [
  '/health',
  '/health?probe=1',
  '/public',
  '/public/',
  '/public?x=/../admin',
  '/public/page',
  '/public/a/b/c',
  '/public/my%20file.txt',
  '/public/x?next=..%2f..%2fadmin',
];

for (const db of testDatabases()) {
  describe(`public paths match whole segments of the full path (/public* made /publicadmin public) on ${db}`, () => {
    if (db === 'postgres' && pgAdminUrl() === undefined) {
      it('PostgreSQL is configured', () => assert.fail(MISSING_PG_MESSAGE));
      return;
    }
    let portcullis: TestServer;
    let token: string;
    let fastify: FastifyInstance;
    let fastifyUrl: string;
    let expressServer: ReturnType<ReturnType<typeof express>['listen']>;
    let expressUrl: string;

    before(async () => {
      portcullis = await startServer({ db });
      token = (await registerAndLogin(client(portcullis.url))).tokens.access_token;
      const verifier = createVerifier({
        issuer: portcullis.config.issuer,
        jwksUri: `${portcullis.url}/.well-known/jwks.json`,
        clock: portcullis.clock,
      });

      // Fastify: every route answers which handler served it and for whom.
      fastify = Fastify();
      await fastify.register(fastifyGuard, { verifier, publicPaths: ['/public*', '/health'] });
      for (const route of ['/public', '/public/*', '/health', '/admin', '/*']) {
        fastify.get(route, async (request) => ({ route, sub: request.auth?.sub ?? null }));
      }
      fastifyUrl = await fastify.listen({ host: '127.0.0.1', port: 0 });

      // Express: the guard mounted under /api, its list naming full paths.
      const app = express();
      app.use('/api', expressGuard({ verifier, publicPaths: ['/api/health', '/api/public/*'] }));
      // A list written relative to its mount point (what req.url used to be matched against).
      app.use('/v2', expressGuard({ verifier, publicPaths: ['/health'] }));
      const answer = (route: string) => (req: express.Request, res: express.Response) => {
        res.json({ route, sub: (req as { auth?: { sub: string } }).auth?.sub ?? null });
      };
      app.get('/api/health', answer('/api/health'));
      app.get('/api/public/*rest', answer('/api/public/*'));
      app.get('/api/publicadmin', answer('/api/publicadmin'));
      app.get('/api/orders', answer('/api/orders'));
      app.get('/v2/health', answer('/v2/health'));
      await new Promise<void>((resolve) => {
        expressServer = app.listen(0, '127.0.0.1', () => resolve());
      });
      expressUrl = `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}`;
    });
    after(async () => {
      await fastify?.close();
      await new Promise((resolve) => expressServer?.close(resolve));
      await portcullis?.close();
    });

    it('Fastify: a listed path, everything below a "*" entry, with query or trailing slash, is public', async () => {
      for (const path of PUBLIC) {
        const answer = await rawGet(fastifyUrl, path);
        assert.equal(answer.status, 200, path);
        assert.equal(answer.body.sub, null, path);
      }
    });

    it('Fastify: no path outside the list is public, whatever its spelling: 401 without a token', async () => {
      for (const path of NOT_PUBLIC) {
        const answer = await rawGet(fastifyUrl, path);
        assert.equal(
          answer.status,
          401,
          `${path}: ${answer.status} ${JSON.stringify(answer.body)}`,
        );
      }
    });

    it('Fastify: the same paths answer 200 to a valid token (the routes exist)', async () => {
      for (const path of ['/publicadmin', '/admin', '/public/../admin', '/healthz']) {
        const answer = await rawGet(fastifyUrl, path, token);
        assert.equal(answer.status, 200, path);
        assert.equal(typeof answer.body.sub, 'string', path);
      }
    });

    it('Express under app.use("/api"): full paths in the list match (req.originalUrl), others need a token', async () => {
      for (const path of ['/api/health', '/api/health?x=1', '/api/public/a', '/api/public/a/b']) {
        const answer = await rawGet(expressUrl, path);
        assert.equal(answer.status, 200, path);
        assert.equal(answer.body.sub, null, path);
      }
      for (const path of [
        '/api/publicadmin',
        '/api/orders',
        '/api/public/../orders',
        '/api/public/%2e%2e/orders',
        '/api/health/',
        '/API/HEALTH', // Express routes case-insensitively; the guard does not: a token is asked for.
      ]) {
        const answer = await rawGet(expressUrl, path);
        assert.equal(
          answer.status,
          401,
          `${path}: ${answer.status} ${JSON.stringify(answer.body)}`,
        );
      }
      const orders = await rawGet(expressUrl, '/api/orders', token);
      assert.equal(orders.status, 200);
      assert.equal(typeof orders.body.sub, 'string');
    });

    it('Express: a list relative to the mount point matches nothing (fails closed: 401)', async () => {
      assert.equal((await rawGet(expressUrl, '/v2/health')).status, 401);
      assert.equal((await rawGet(expressUrl, '/v2/health', token)).status, 200);
    });
  });
}

describe('publicPaths entries that could be read two ways are refused at set-up', () => {
  it('a "*" inside the path, a relative path, a dot or empty segment or a query throws TypeError', () => {
    for (const entry of [
      '/pub*lic',
      '/*/admin',
      'public',
      '*',
      '/public/../admin',
      '/a/./b*',
      '/a//b',
      '/health?probe=1',
    ]) {
      assert.throws(() => isPublic('/x', [entry]), TypeError, entry);
    }
    assert.equal(isPublic('/anything/at/all', ['/*']), true);
    assert.equal(isPublic('/', ['/']), true);
    assert.equal(isPublic('/x', ['/']), false);
  });
});
