// Black-box: two server instances on one PostgreSQL and one Redis (SPEC §3, §5, §6). A failure on
// A counts on B, a rate limit is one budget across both, a logout on A is denied on B within 1 s
// although B's database poll is a minute away. A control pair without Redis shows that Redis is
// what carries it; an outage of Redis is survived without a 5xx crash or a hang.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { superuser, wait } from '../support/fixtures.ts';
import { type Client, client, newIdentity, registerAndLogin } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { redisEnv, uniquePrefix } from '../support/redis.ts';
import { startServer, type TestServer, testClock } from '../support/server.ts';

/** Runs with the PostgreSQL + Redis half (PORTCULLIS_TEST_DATABASES); absent, not skipped, without it. */
function whenShared(name: string, fn: () => void): void {
  if (testDatabases().includes('postgres')) describe(name, fn);
}

interface Pair {
  a: TestServer;
  b: TestServer;
  apiA: Client;
  apiB: Client;
  close(): Promise<void>;
}

/** Two instances sharing one PostgreSQL database (and, through `env`, maybe one Redis). */
async function startPair(env: Record<string, string>): Promise<Pair> {
  // One frozen clock for both, so they agree on every window.
  const clock = testClock();
  const a = await startServer({ db: 'postgres', env, clock });
  const b = await startServer({
    env,
    clock,
    reuse: { dataDir: a.dataDir, databaseUrl: a.databaseUrl },
  });
  return {
    a,
    b,
    apiA: client(a.url),
    apiB: client(b.url),
    async close() {
      await b.close();
      await a.close();
    },
  };
}

const SHARED = {
  LOCKOUT_THRESHOLD: '3',
  LOCKOUT_BASE_SECONDS: '30',
  RATE_LIMIT_REGISTER: '5/1h',
  // The database poll cannot be what tells B within a second.
  REVOCATION_POLL_MS: '60000',
};

const login = (api: Client, username: string, password: string) =>
  api.post('/token', { username, password }, { form: true });

/** Milliseconds until `check` holds, polling every 20 ms; Infinity if not within `ms`. */
async function timeUntil(check: () => Promise<boolean>, ms: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    if (await check()) return performance.now() - start;
    await wait(20);
  }
  return Number.POSITIVE_INFINITY;
}

whenShared('two instances on one PostgreSQL', () => {
  describe('with one Redis', () => {
    let pair: Pair;
    before(async () => {
      pair = await startPair({ ...SHARED, ...redisEnv(uniquePrefix()) });
    });
    // Each test in fresh rate-limit windows: the shared frozen clock jumps an hour.
    beforeEach(() => pair.a.clock.advance(3_600_000));
    after(() => pair.close());

    it('counts a failure on A toward the lockout on B', async () => {
      const user = await registerAndLogin(pair.apiA);
      assert.equal((await login(pair.apiA, user.username, 'wrong guess one')).status, 400);
      assert.equal((await login(pair.apiA, user.username, 'wrong guess two')).status, 400);
      assert.equal((await login(pair.apiB, user.username, 'wrong guess three')).status, 400);
      for (const api of [pair.apiA, pair.apiB]) {
        const locked = await login(api, user.username, user.password);
        assert.equal(locked.status, 429);
        assert.equal(locked.body.error, 'too_many_attempts');
        assert.equal(locked.headers.get('retry-after'), '30');
      }
    });

    it('shares one rate-limit budget between A and B', async () => {
      const remaining: Array<string | null> = [];
      for (const api of [pair.apiA, pair.apiB, pair.apiA, pair.apiB]) {
        const answer = await api.post('/register', newIdentity('pair'));
        assert.equal(answer.status, 201);
        remaining.push(answer.headers.get('ratelimit-remaining'));
      }
      assert.deepEqual(remaining, ['4', '3', '2', '1']);
      assert.equal((await pair.apiB.post('/register', newIdentity('pair'))).status, 201);
      assert.equal((await pair.apiA.post('/register', newIdentity('pair'))).status, 429);
      assert.equal((await pair.apiB.post('/register', newIdentity('pair'))).status, 429);
    });

    it('denies on B, within 1 s, an access token logged out on A', async () => {
      const user = await registerAndLogin(pair.apiB);
      const token = { token: user.tokens.access_token };
      assert.equal((await pair.apiB.get('/users/me', token)).status, 200);
      assert.equal((await pair.apiA.get('/users/me', token)).status, 200);
      assert.equal((await pair.apiA.post('/logout', undefined, token)).status, 204);
      const elapsed = await timeUntil(
        async () => (await pair.apiB.get('/users/me', token)).status === 401,
        3_000,
      );
      assert.ok(elapsed < 1_000, `B still accepted the token after ${elapsed} ms`);
    });

    it('carries admin changes too: a user deactivated on A is refused on B within 1 s', async () => {
      const admin = await superuser(pair.a, pair.apiA);
      const user = await registerAndLogin(pair.apiB);
      const token = { token: user.tokens.access_token };
      const patched = await pair.apiA.patch(
        `/admin/users/${user.id}`,
        { is_active: false },
        { token: admin.tokens.access_token },
      );
      assert.equal(patched.status, 200, patched.text);
      const elapsed = await timeUntil(
        async () => (await pair.apiB.get('/users/me', token)).status === 401,
        3_000,
      );
      assert.ok(elapsed < 1_000, `B still accepted the token after ${elapsed} ms`);
    });
  });

  describe('control: without Redis', () => {
    let pair: Pair;
    before(async () => {
      pair = await startPair(SHARED);
    });
    after(() => pair.close());

    it('counts per instance and learns of a logout only at the next database poll', async () => {
      const user = await registerAndLogin(pair.apiA);
      for (let i = 0; i < 3; i++) await login(pair.apiA, user.username, 'wrong guess');
      assert.equal((await login(pair.apiA, user.username, user.password)).status, 429);
      assert.equal((await login(pair.apiB, user.username, user.password)).status, 200);
      const token = { token: user.tokens.access_token };
      // B has seen the session live (else its first look at the session would find it ended).
      assert.equal((await pair.apiB.get('/users/me', token)).status, 200);
      assert.equal((await pair.apiA.post('/logout', undefined, token)).status, 204);
      assert.equal((await pair.apiA.get('/users/me', token)).status, 401);
      await wait(1_200);
      assert.equal((await pair.apiB.get('/users/me', token)).status, 200);
    });
  });
});

/** A Redis of its own on a free port, to be stopped and started again. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function startRedis(port: number, dir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.on('error', reject);
    child.stdout.on('data', (d) => {
      output += d;
      if (/ready to accept connections/i.test(output)) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${output}`)));
  });
}

async function stopRedis(child: ChildProcess): Promise<void> {
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGKILL');
  await exited;
}

whenShared('a Redis outage', () => {
  let server: TestServer;
  let api: Client;
  let redis: ChildProcess;
  let port: number;
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-redis-outage-'));

  before(async () => {
    port = await freePort();
    redis = await startRedis(port, dir);
    server = await startServer({
      db: 'postgres',
      env: { REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_PREFIX: uniquePrefix() },
    });
    api = client(server.url);
  });
  after(async () => {
    await server.close();
    if (redis.exitCode === null) await stopRedis(redis);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses logins 503 (fail closed), keeps serving the rest, and recovers when Redis is back', async () => {
    const user = await registerAndLogin(api);
    const token = { token: user.tokens.access_token };
    await stopRedis(redis);

    const started = performance.now();
    const refused = await login(api, user.username, user.password);
    assert.ok(performance.now() - started < 5_000, 'answered promptly, not hung');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error, 'temporarily_unavailable');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    // Access tokens are checked in memory: no Redis (nor database) on the hot path.
    assert.equal((await api.get('/users/me', token)).status, 200);
    // The rate limit fails open: registration goes on.
    assert.equal((await api.post('/register', newIdentity('outage'))).status, 201);
    const ready = await api.get('/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.body, {
      status: 'unavailable',
      checks: { database: 'ok', redis: 'failing' },
    });

    redis = await startRedis(port, dir);
    const back = await timeUntil(async () => (await api.get('/readyz')).status === 200, 10_000);
    assert.ok(Number.isFinite(back), 'ready again once Redis is back');
    assert.equal((await login(api, user.username, user.password)).status, 200);
  });
});
