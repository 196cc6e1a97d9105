// Security headers on every answer of every route family (SPEC §5), and CORS for the configured
// origins only. Real requests to a real server; no header is set by the test.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Account, superuser } from '../support/fixtures.ts';
import { client, registerAndLogin } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

const ALLOWED = 'https://app.example.com';
const OTHER = 'https://evil.example.net';

interface Probe {
  name: string;
  method: string;
  path: string | ((who: Account, admin: Account) => string);
  token?: 'user' | 'admin';
  headers?: Record<string, string>;
  body?: string;
  status: number;
}

// One request per route family and per kind of answer (success, error, 404, parse error, 413).
const PROBES: Probe[] = [
  { name: 'health', method: 'GET', path: '/healthz', status: 200 },
  { name: 'readiness', method: 'GET', path: '/readyz', status: 200 },
  { name: 'JWKS', method: 'GET', path: '/.well-known/jwks.json', status: 200 },
  { name: 'metadata', method: 'GET', path: '/.well-known/oauth-authorization-server', status: 200 },
  { name: 'OpenAPI document', method: 'GET', path: '/openapi.json', status: 200 },
  { name: 'Swagger UI page', method: 'GET', path: '/docs', status: 200 },
  {
    name: 'Swagger UI script',
    method: 'GET',
    path: '/docs/static/swagger-initializer.js',
    status: 200,
  },
  {
    name: 'OAuth error',
    method: 'POST',
    path: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'username=nobody&password=wrong-password',
    status: 400,
  },
  {
    name: 'revoke',
    method: 'POST',
    path: '/revoke',
    headers: { 'content-type': 'application/json' },
    body: '{"token":"x"}',
    status: 200,
  },
  { name: 'account', method: 'GET', path: '/users/me', token: 'user', status: 200 },
  { name: 'sessions', method: 'GET', path: '/users/me/sessions', token: 'user', status: 200 },
  { name: 'another user', method: 'GET', path: '/users/someone-else', token: 'user', status: 403 },
  { name: 'no token', method: 'GET', path: '/users/me', status: 401 },
  { name: 'admin list', method: 'GET', path: '/admin/users', token: 'admin', status: 200 },
  { name: 'admin audit', method: 'GET', path: '/admin/audit', token: 'admin', status: 200 },
  { name: 'admin by a user', method: 'GET', path: '/admin/users', token: 'user', status: 403 },
  {
    name: 'unparsable JSON',
    method: 'POST',
    path: '/register',
    headers: { 'content-type': 'application/json' },
    body: '{"email":',
    status: 400,
  },
  {
    name: 'failed validation',
    method: 'POST',
    path: '/register',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    status: 422,
  },
  {
    name: 'body too large',
    method: 'POST',
    path: '/register',
    headers: { 'content-type': 'application/json' },
    body: `{"a":"${'x'.repeat(1024 * 1024)}"}`,
    status: 413,
  },
  { name: 'unknown route', method: 'GET', path: '/no/such/route', status: 404 },
  { name: 'unknown method', method: 'PUT', path: '/users/me', status: 404 },
];

function expectSecurityHeaders(headers: Headers, where: string, production: boolean): void {
  const csp = headers.get('content-security-policy') ?? '';
  const directives = new Map(
    csp.split(';').map((d) => {
      const [name = '', ...values] = d.trim().split(/\s+/);
      return [name, values] as const;
    }),
  );
  assert.deepEqual(
    directives.get('script-src'),
    ["'self'"],
    `${where}: scripts from this origin only`,
  );
  assert.deepEqual(directives.get('script-src-attr'), ["'none'"], `${where}: no on* handlers`);
  assert.deepEqual(directives.get('frame-ancestors'), ["'none'"], `${where}: frame-ancestors`);
  assert.deepEqual(directives.get('object-src'), ["'none'"], `${where}: object-src`);
  assert.ok(directives.has('default-src'), `${where}: default-src`);
  assert.doesNotMatch(
    csp,
    /unsafe-inline|unsafe-eval|nonce-|\*/,
    `${where}: nothing inline, no wildcard`,
  );
  assert.equal(headers.get('x-content-type-options'), 'nosniff', where);
  assert.equal(headers.get('x-frame-options'), 'DENY', where);
  assert.equal(headers.get('referrer-policy'), 'no-referrer', where);
  assert.equal(headers.get('x-powered-by'), null, `${where}: no X-Powered-By`);
  assert.equal(headers.get('server'), null, `${where}: no Server banner`);
  if (production) {
    assert.match(headers.get('strict-transport-security') ?? '', /^max-age=31536000\b/, where);
    assert.match(csp, /upgrade-insecure-requests/, where);
  } else {
    assert.equal(
      headers.get('strict-transport-security'),
      null,
      `${where}: no HSTS outside production`,
    );
    assert.doesNotMatch(csp, /upgrade-insecure-requests/, where);
  }
}

async function probeAll(server: TestServer, production: boolean): Promise<void> {
  const api = client(server.url);
  const who = await registerAndLogin(api, 'hdr');
  const admin = await superuser(server, api);
  for (const p of PROBES) {
    const path = typeof p.path === 'string' ? p.path : p.path(who, admin);
    const headers: Record<string, string> = { ...p.headers };
    if (p.token)
      headers.authorization = `Bearer ${(p.token === 'admin' ? admin : who).tokens.access_token}`;
    const answer = await fetch(new URL(path, server.url), {
      method: p.method,
      headers,
      body: p.body,
    });
    await answer.arrayBuffer();
    assert.equal(answer.status, p.status, `${p.name}: ${p.method} ${path}`);
    expectSecurityHeaders(
      answer.headers,
      `${p.name} (${p.method} ${path} → ${answer.status})`,
      production,
    );
  }
}

for (const db of testDatabases()) {
  describe(`security headers on ${db}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({ db, env: { CORS_ORIGINS: `${ALLOWED} http://localhost:3000` } });
    });
    after(() => server.close());

    it('every route family answers with the headers, errors and 404s included; no HSTS in development', async () => {
      await probeAll(server, false);
    });

    it('CORS: an allowed origin gets its origin back, with credentials, and Vary: Origin', async () => {
      const answer = await fetch(new URL('/.well-known/jwks.json', server.url), {
        headers: { origin: ALLOWED },
      });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('access-control-allow-origin'), ALLOWED);
      assert.equal(answer.headers.get('access-control-allow-credentials'), 'true');
      assert.match(answer.headers.get('vary') ?? '', /\bOrigin\b/i);
      assert.match(answer.headers.get('access-control-expose-headers') ?? '', /www-authenticate/);
    });

    it('CORS exposed ratelimit and ratelimit-policy while the server sends RateLimit-Limit, -Remaining, -Reset: the ones sent are exposed', async () => {
      const answer = await fetch(new URL('/register', server.url), {
        method: 'POST',
        headers: { origin: ALLOWED, 'content-type': 'application/json' },
        body: '{}',
      });
      const sent = [
        'ratelimit-limit',
        'ratelimit-remaining',
        'ratelimit-reset',
        'ratelimit-policy',
      ];
      for (const name of sent) assert.ok(answer.headers.get(name) !== null, `${name} is sent`);
      const exposed = (answer.headers.get('access-control-expose-headers') ?? '')
        .split(',')
        .map((x) => x.trim().toLowerCase());
      for (const name of sent) assert.ok(exposed.includes(name), `${name} is exposed`);
      assert.ok(!exposed.includes('ratelimit'), 'no header name the server never sends');
    });

    it('CORS: a preflight from an allowed origin is answered with the methods and headers the API takes', async () => {
      const answer = await fetch(new URL('/users/me', server.url), {
        method: 'OPTIONS',
        headers: {
          origin: ALLOWED,
          'access-control-request-method': 'PATCH',
          'access-control-request-headers': 'authorization, content-type, x-csrf-token',
        },
      });
      assert.equal(answer.status, 204);
      assert.equal(answer.headers.get('access-control-allow-origin'), ALLOWED);
      assert.equal(answer.headers.get('access-control-allow-credentials'), 'true');
      assert.match(answer.headers.get('access-control-allow-methods') ?? '', /\bPATCH\b/);
      const allowed = (answer.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      for (const h of ['authorization', 'content-type', 'x-csrf-token'])
        assert.match(allowed, new RegExp(h));
      assert.ok(Number(answer.headers.get('access-control-max-age')) > 0);
      expectSecurityHeaders(answer.headers, 'preflight', false);
    });

    it('CORS: any other origin gets no Access-Control-Allow-* header, on requests and preflights', async () => {
      for (const origin of [
        OTHER,
        'null',
        `${ALLOWED}.evil.net`,
        'http://app.example.com',
        `${ALLOWED}:8443`,
      ]) {
        const simple = await fetch(new URL('/token', server.url), {
          method: 'POST',
          headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'username=a&password=b',
        });
        assert.equal(simple.status, 400);
        assert.equal(simple.headers.get('access-control-allow-origin'), null, origin);
        assert.equal(simple.headers.get('access-control-allow-credentials'), null, origin);
        const preflight = await fetch(new URL('/token', server.url), {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST' },
        });
        await preflight.arrayBuffer();
        assert.equal(preflight.headers.get('access-control-allow-origin'), null, origin);
        assert.equal(preflight.headers.get('access-control-allow-methods'), null, origin);
        assert.equal(preflight.headers.get('access-control-allow-credentials'), null, origin);
      }
    });
  });
}

describe('security headers in production, and CORS with no origins configured', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      env: {
        NODE_ENV: 'production',
        SECRET_KEY: 'a production secret of more than thirty-two bytes',
        PASSWORD_HASH_MEMORY_KIB: '19456',
        PASSWORD_HASH_TIME_COST: '2',
      },
    });
  });
  after(() => server.close());

  it('HSTS and upgrade-insecure-requests are sent on every route family', async () => {
    await probeAll(server, true);
  });

  it('without CORS_ORIGINS no origin is allowed', async () => {
    const answer = await fetch(new URL('/.well-known/jwks.json', server.url), {
      headers: { origin: ALLOWED },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('access-control-allow-origin'), null);
  });
});
