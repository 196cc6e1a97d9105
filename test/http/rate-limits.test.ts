// Black-box: per-address rate limits (SPEC §5) on SQLite (memory kv) and on PostgreSQL + Redis:
// IETF draft RateLimit-* headers, 429 with Retry-After (problem details; OAuth JSON on /token),
// windows that end, budgets kept per policy. The clock is frozen; each test starts in a fresh hour,
// so every test has fresh windows.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  type Answer,
  type Client,
  client,
  newIdentity,
  registerAndLogin,
} from '../support/http.ts';
import { testBackends } from '../support/redis.ts';
import { startServer, type TestServer } from '../support/server.ts';

const HOUR = 3_600_000;

function limitHeaders(answer: Answer): Record<string, string | null> {
  return {
    limit: answer.headers.get('ratelimit-limit'),
    remaining: answer.headers.get('ratelimit-remaining'),
    policy: answer.headers.get('ratelimit-policy'),
  };
}

for (const backend of testBackends()) {
  describe(`rate limits on ${backend.name}`, () => {
    let server: TestServer;
    let api: Client;
    const register = () => api.post('/register', newIdentity('rl'));
    const badLogin = () =>
      api.post('/token', { username: 'nobody-here', password: 'wrong password' }, { form: true });

    before(async () => {
      server = await startServer({
        db: backend.db,
        env: {
          ...backend.env(),
          RATE_LIMIT_REGISTER: '3/1h',
          RATE_LIMIT_TOKEN: '4/60',
          RATE_LIMIT_REFRESH: '2/1m',
        },
      });
      api = client(server.url);
    });
    beforeEach(() => {
      server.clock.set((Math.floor(server.clock() / HOUR) + 1) * HOUR);
    });
    after(() => server.close());

    it('counts down RateLimit-Remaining, then answers 429 rate_limited with Retry-After', async () => {
      for (const remaining of ['2', '1', '0']) {
        const answer = await register();
        assert.equal(answer.status, 201, answer.text);
        assert.deepEqual(limitHeaders(answer), { limit: '3', remaining, policy: '3;w=3600' });
        assert.equal(answer.headers.get('ratelimit-reset'), '3600');
      }
      const refused = await register();
      assert.equal(refused.status, 429);
      assert.match(refused.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(refused.body.code, 'rate_limited');
      assert.equal(refused.body.status, 429);
      assert.equal(refused.headers.get('retry-after'), '3600');
      assert.deepEqual(limitHeaders(refused), { limit: '3', remaining: '0', policy: '3;w=3600' });
      // Refused before anything is done: the would-be account does not exist.
      const who = newIdentity('late');
      assert.equal((await api.post('/register', who)).status, 429);
      server.clock.advance(HOUR);
      assert.equal((await api.post('/register', who)).status, 201, 'created once the window ended');
    });

    it('reports the time left in the window in RateLimit-Reset and Retry-After', async () => {
      server.clock.advance(45_000);
      const first = await badLogin();
      assert.equal(first.headers.get('ratelimit-reset'), '15');
      for (let i = 0; i < 3; i++) await badLogin();
      server.clock.advance(5_000);
      const refused = await badLogin();
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('retry-after'), '10');
      server.clock.advance(10_000);
      const fresh = await badLogin();
      assert.equal(fresh.status, 400, 'a new window has a new budget');
      assert.equal(fresh.headers.get('ratelimit-remaining'), '3');
    });

    it('answers /token as OAuth JSON: {"error":"rate_limited"}, application/json, no-store', async () => {
      for (let i = 0; i < 4; i++) assert.equal((await badLogin()).status, 400);
      const refused = await badLogin();
      assert.equal(refused.status, 429);
      assert.match(refused.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(refused.headers.get('cache-control'), 'no-store');
      assert.equal(refused.body.error, 'rate_limited');
      assert.equal(typeof refused.body.error_description, 'string');
      assert.equal(refused.body.code, undefined, 'not problem details');
      assert.equal(refused.headers.get('retry-after'), '60');
    });

    it('keeps a budget per policy: /token, /register and /refresh count apart', async () => {
      // One /register and one /token.
      const user = await registerAndLogin(api);
      for (let i = 0; i < 2; i++) await badLogin();
      const last = await badLogin();
      assert.equal(last.status, 400);
      assert.equal(last.headers.get('ratelimit-remaining'), '0');
      assert.equal((await badLogin()).status, 429);
      // /register spent one; /refresh is untouched.
      assert.equal((await register()).headers.get('ratelimit-remaining'), '1');
      const refreshed = await api.post('/refresh', { refresh_token: user.tokens.refresh_token });
      assert.equal(refreshed.status, 200, refreshed.text);
      assert.deepEqual(limitHeaders(refreshed), { limit: '2', remaining: '1', policy: '2;w=60' });
      assert.equal((await api.post('/refresh', { refresh_token: 'x' })).status, 401);
      const refused = await api.post('/refresh', { refresh_token: 'x' });
      assert.equal(refused.status, 429);
      assert.equal(refused.body.code, 'rate_limited');
    });

    it('counts bad input too, and leaves routes without a policy alone', async () => {
      const garbage = await api.post('/register', undefined, {
        raw: '{not json',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(garbage.status, 400);
      assert.equal(garbage.headers.get('ratelimit-remaining'), '2');
      for (const path of ['/healthz', '/.well-known/jwks.json', '/users/me']) {
        const answer = await api.get(path);
        assert.equal(answer.headers.get('ratelimit-limit'), null, path);
      }
    });
  });
}
