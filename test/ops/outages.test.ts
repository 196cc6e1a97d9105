// Outages (SPEC §11): PostgreSQL, then Redis, stopped and started again under two running
// instances and a guard in another process — real servers of this test's own (test/support/
// clusters.ts), real `portcullis serve` processes. While a backend is away nothing hangs or
// crashes and nothing answers 500: what needs it answers 503 with Retry-After, what can be answered
// safely from memory still is (signature checks, the deny-list, the guard), and a token is never
// called dead because the database did not answer. When it is back everything recovers without a
// restart, and no revocation made during the outage is lost at the other instances or the guard.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { privatePostgres, privateRedis, type Stoppable } from '../support/clusters.ts';
import { type GuardProcess, startGuard } from '../support/guard.ts';
import { type Answer, type Client, client, newIdentity, type TokenPair } from '../support/http.ts';
import { createTempPgDatabase, testDatabases } from '../support/postgres.ts';
import { cli, type ServerProcess, serveProcess } from '../support/process.ts';
import { uniquePrefix } from '../support/redis.ts';
import { testEnv } from '../support/server.ts';

const ISSUER = 'http://localhost:8000';
/** No request may take longer than this during an outage (the pool gives up connecting at 5 s). */
const ANSWER_WITHIN_MS = 7_000;
/** Recovery after the backend is back, and a revocation's reach to another process. */
const RECOVER_WITHIN_MS = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 50 ms until it holds; returns the ms it took, or fails after `withinMs`. */
async function until(what: string, withinMs: number, check: () => Promise<boolean>) {
  const started = Date.now();
  while (!(await check().catch(() => false))) {
    if (Date.now() - started > withinMs) assert.fail(`${what}: not within ${withinMs} ms`);
    await sleep(50);
  }
  return Date.now() - started;
}

/** A request that must answer (not hang), timed. */
async function timed(
  api: Client,
  method: string,
  path: string,
  body?: unknown,
  options: { token?: string; form?: boolean } = {},
): Promise<Answer & { ms: number }> {
  const started = Date.now();
  const answer = await api
    .request(method, path, body, { ...options, timeoutMs: 20_000 })
    .catch((error: Error) => {
      throw new Error(
        `${method} ${path} did not answer: ${error.message} (${String(error.cause)})`,
      );
    });
  return { ...answer, ms: Date.now() - started };
}

/** 503 with Retry-After, within the bound: "come back shortly", never a 500 or a hang. */
function assertUnavailable(answer: Answer & { ms: number }, what: string): void {
  assert.equal(answer.status, 503, `${what}: ${answer.status} ${answer.text}`);
  assert.match(answer.headers.get('retry-after') ?? '', /^\d+$/, `${what}: Retry-After`);
  assert.ok(answer.ms < ANSWER_WITHIN_MS, `${what}: answered in ${answer.ms} ms`);
  // The OAuth endpoints say it in `error` (RFC 6749), the others in the problem's `code`.
  const body = answer.body as { error?: string; code?: string };
  assert.equal(body.error ?? body.code, 'temporarily_unavailable', what);
}

interface World {
  dataDir: string;
  env: Record<string, string>;
  a: ServerProcess;
  b: ServerProcess;
  guard: GuardProcess;
  apiA: Client;
  apiB: Client;
  close(): Promise<void>;
}

/** Two instances on one database and one Redis, and a guard following that Redis. */
async function world(databaseUrl: string, redisUrl: string): Promise<World> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-outage-'));
  const prefix = uniquePrefix();
  const env = testEnv(dataDir, databaseUrl, {
    ISSUER,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    // A revocation reaches the other instance through the database within one poll, outage or not.
    REVOCATION_POLL_MS: '200',
    // serveProcess waits for the "listening" line (info); an "unhandled error" (level 50) in the
    // log's tail is a defect of this suite.
    LOG_LEVEL: 'info',
  });
  const migrated = await cli(['migrate'], env);
  assert.equal(migrated.code, 0, migrated.stderr);
  const made = await cli(
    ['user', 'create', '--username', 'root', '--email', 'root@example.com', '--superuser'],
    env,
    'Outage-root-password-9\n',
  );
  assert.equal(made.code, 0, made.stderr);
  const a = await serveProcess(env);
  const b = await serveProcess(env);
  const guard = await startGuard({ issuer: ISSUER, server: a.url, redisUrl, redisPrefix: prefix });
  return {
    dataDir,
    env,
    a,
    b,
    guard,
    apiA: client(a.url),
    apiB: client(b.url),
    async close() {
      await guard.stop();
      await Promise.all([a.stop(), b.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function signUp(api: Client): Promise<{ username: string; password: string }> {
  const who = newIdentity('outage');
  const made = await api.post('/register', who);
  assert.equal(made.status, 201, made.text);
  return who;
}

async function signIn(api: Client, who: { username: string; password: string }) {
  const answer = await api.post<TokenPair>(
    '/token',
    { grant_type: 'password', username: who.username, password: who.password },
    { form: true },
  );
  assert.equal(answer.status, 200, answer.text);
  return answer.body;
}

async function guardStatus(guard: GuardProcess, token: string): Promise<number> {
  const answer = await fetch(guard.url, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5_000),
  });
  await answer.text();
  return answer.status;
}

/** Nothing a server logged may be an unhandled error: an outage is a warning, not a defect. */
function assertNoUnhandled(server: ServerProcess, name: string): void {
  const unhandled = server
    .output()
    .split('\n')
    .filter((line) => /"level":(50|60)/.test(line));
  assert.deepEqual(unhandled, [], `${name} logged errors`);
}

/**
 * Background traffic for the whole outage: sign-ins' refreshes and /users/me in a loop on both
 * instances. Every answer must be 200 or a 503 with Retry-After, in time; a refresh refused with
 * 503 is retried with the same token (nothing was acknowledged).
 */
function backgroundLoad(apis: Client[], pairs: TokenPair[]) {
  let running = true;
  const bad: string[] = [];
  const counts = { ok: 0, unavailable: 0 };
  const lane = async (api: Client, pair: TokenPair) => {
    let current = pair;
    while (running) {
      try {
        current = await round(api, current);
      } catch (error) {
        bad.push(String(error));
        await sleep(200);
      }
    }
  };
  const round = async (api: Client, current: TokenPair): Promise<TokenPair> => {
    {
      const me = await timed(api, 'GET', '/users/me', undefined, { token: current.access_token });
      const refreshed = await timed(api, 'POST', '/refresh', {
        refresh_token: current.refresh_token,
      });
      for (const [what, answer] of [
        ['/users/me', me],
        ['/refresh', refreshed],
      ] as const) {
        const unavailable =
          answer.status === 503 && /^\d+$/.test(answer.headers.get('retry-after') ?? '');
        if (answer.status === 200) counts.ok++;
        else if (unavailable) counts.unavailable++;
        else bad.push(`${what}: ${answer.status} ${answer.text.slice(0, 200)}`);
        if (answer.ms >= ANSWER_WITHIN_MS) bad.push(`${what}: ${answer.ms} ms`);
      }
      await sleep(20);
      return refreshed.status === 200 ? (refreshed.body as unknown as TokenPair) : current;
    }
  };
  const lanes = pairs.map((pair, i) => lane(apis[i % apis.length] as Client, pair));
  const load = {
    counts,
    async stop(): Promise<string[]> {
      running = false;
      await Promise.all(lanes);
      loads.delete(load);
      return bad;
    },
  };
  loads.add(load);
  return load;
}
/** Loads still running when a test failed half-way: stopped before the servers are. */
const loads = new Set<{ stop(): Promise<string[]> }>();

const timeline: string[] = [];
function mark(t: TestContext, started: number, event: string): void {
  const line = `${String(Date.now() - started).padStart(6)} ms  ${event}`;
  timeline.push(line);
  t.diagnostic(line);
}

if (testDatabases().includes('postgres')) {
  describe('PostgreSQL stopped and started again under two instances and a guard', () => {
    let pg: Stoppable;
    let redis: Stoppable;
    let w: World;
    before(async () => {
      pg = await privatePostgres();
      redis = await privateRedis();
      w = await world(pg.url, redis.url);
    });
    after(async () => {
      await Promise.all([...loads].map((load) => load.stop()));
      await w?.close();
      await pg?.close();
      await redis?.close();
    });

    it('answers 503 with Retry-After while it is away, from memory what it safely can, and recovers without a restart', async (t) => {
      const { apiA, apiB, guard } = w;
      const alice = await signUp(apiA);
      const live = await signIn(apiA, alice);
      const spare = await signIn(apiB, alice); // its refresh token is kept for after the outage
      const ended = await signIn(apiA, alice);
      const load = await Promise.all([1, 2, 3, 4].map(() => signIn(apiA, alice)));
      const root = await signIn(apiA, { username: 'root', password: 'Outage-root-password-9' });
      // Both instances and the guard have seen the live token (its session is in their caches).
      for (const api of [apiA, apiB]) {
        assert.equal((await api.get('/users/me', { token: live.access_token })).status, 200);
      }
      const out = await apiA.post('/logout', {}, { token: ended.access_token });
      assert.ok(out.status < 300, out.text);
      await until('the logout at B', 2_000, async () => {
        return (await apiB.get('/users/me', { token: ended.access_token })).status === 401;
      });
      await until('the logout at the guard', 2_000, async () => {
        return (await guardStatus(guard, ended.access_token)) === 401;
      });
      assert.equal(await guardStatus(guard, live.access_token), 200);

      const traffic = backgroundLoad([apiA, apiB], load);
      await sleep(300);
      const started = Date.now();
      await pg.stop();
      mark(t, started, 'PostgreSQL stopped (pg_ctl stop -m fast returned)');

      // What needs no database answers as before.
      for (const api of [apiA, apiB]) {
        for (const path of [
          '/.well-known/jwks.json',
          '/.well-known/openid-configuration',
          '/healthz',
        ]) {
          const answer = await timed(api, 'GET', path);
          assert.equal(answer.status, 200, `${path}: ${answer.text}`);
        }
        const ready = await timed(api, 'GET', '/readyz');
        assert.equal(ready.status, 503, `/readyz during the outage: ${ready.text}`);
      }
      mark(t, started, 'JWKS, discovery, /healthz 200; /readyz 503 on both instances');
      // The guard needs neither: it keeps accepting the live token and refusing the ended one.
      assert.equal(await guardStatus(guard, live.access_token), 200);
      assert.equal(await guardStatus(guard, ended.access_token), 401);
      mark(t, started, 'guard: live token 200, logged-out token 401');
      // The deny-list is in memory: the ended session is refused; the live one is never a false 401.
      for (const api of [apiA, apiB]) {
        const refused = await timed(api, 'GET', '/users/me', undefined, {
          token: ended.access_token,
        });
        assert.equal(refused.status, 401, refused.text);
        const me = await timed(api, 'GET', '/users/me', undefined, { token: live.access_token });
        assertUnavailable(me, '/users/me of a live token (the user row is in the database)');
      }
      // Introspection is a verdict: "inactive" because the database was away would be a lie.
      const introspected = await timed(
        apiA,
        'POST',
        '/introspect',
        { token: live.access_token },
        { token: root.access_token, form: true },
      );
      assertUnavailable(introspected, '/introspect of a live token');
      // Every write: 503, nothing acknowledged.
      const bob = newIdentity('outage');
      assertUnavailable(await timed(apiA, 'POST', '/register', bob), '/register');
      assertUnavailable(
        await timed(apiB, 'POST', '/token', { grant_type: 'password', ...alice }, { form: true }),
        'password grant',
      );
      assertUnavailable(
        await timed(
          apiA,
          'POST',
          '/token',
          { grant_type: 'refresh_token', refresh_token: spare.refresh_token },
          { form: true },
        ),
        'refresh grant',
      );
      assertUnavailable(
        await timed(apiB, 'POST', '/logout', {}, { token: live.access_token }),
        '/logout',
      );
      mark(
        t,
        started,
        'register, password and refresh grants, logout, introspection: 503 + Retry-After',
      );
      // An outage of some seconds, with the background traffic running through it.
      await sleep(3_000);
      assert.equal(w.a.child.exitCode, null, 'instance A is alive');
      assert.equal(w.b.child.exitCode, null, 'instance B is alive');

      await pg.start();
      mark(t, started, 'PostgreSQL started again');
      for (const [name, api] of [
        ['A', apiA],
        ['B', apiB],
      ] as const) {
        const ms = await until(`/readyz of ${name}`, RECOVER_WITHIN_MS, async () => {
          return (await api.get('/readyz', { timeoutMs: 5_000 })).status === 200;
        });
        mark(t, started, `instance ${name}: /readyz 200 ${ms} ms after the start`);
      }
      const bad = await traffic.stop();
      assert.deepEqual(bad, [], 'background traffic: only 200 or 503 + Retry-After, in time');
      assert.ok(traffic.counts.unavailable > 0, 'the background traffic met the outage');
      mark(
        t,
        started,
        `background traffic: ${traffic.counts.ok} × 200, ${traffic.counts.unavailable} × 503, nothing else`,
      );

      // Nothing was lost or half-done: the refresh token refused during the outage still works,
      // the live session still verifies, sign-ins and registrations work, and a logout still
      // reaches the other instance and the guard.
      const refreshed = await apiA.post<TokenPair>(
        '/token',
        { grant_type: 'refresh_token', refresh_token: spare.refresh_token },
        { form: true },
      );
      assert.equal(refreshed.status, 200, refreshed.text);
      assert.equal((await apiB.get('/users/me', { token: live.access_token })).status, 200);
      assert.equal((await apiA.post('/register', bob)).status, 201);
      const again = await signIn(apiB, alice);
      const bye = await apiA.post('/logout', {}, { token: again.access_token });
      assert.ok(bye.status < 300, bye.text);
      const reach = await until('the logout at B after the outage', 2_000, async () => {
        return (await apiB.get('/users/me', { token: again.access_token })).status === 401;
      });
      await until('the logout at the guard after the outage', 2_000, async () => {
        return (await guardStatus(guard, again.access_token)) === 401;
      });
      mark(
        t,
        started,
        `recovered: refresh, register, login, logout (at B in ${reach} ms and at the guard)`,
      );
      assertNoUnhandled(w.a, 'instance A');
      assertNoUnhandled(w.b, 'instance B');
    });
  });

  describe('Redis stopped and started again under two instances and a guard', () => {
    let db: { url: string; drop(): Promise<void> };
    let redis: Stoppable;
    let w: World;
    before(async () => {
      db = await createTempPgDatabase();
      redis = await privateRedis();
      w = await world(db.url, redis.url);
    });
    after(async () => {
      await Promise.all([...loads].map((load) => load.stop()));
      await w?.close();
      await redis?.close();
      await db?.drop();
    });

    it('refuses sign-ins with 503, keeps verifying, loses no revocation, and recovers without a restart', async (t) => {
      const { apiA, apiB, guard } = w;
      const carol = await signUp(apiA);
      const live = await signIn(apiA, carol);
      const doomed = await signIn(apiA, carol);
      const load = await Promise.all([1, 2, 3, 4].map(() => signIn(apiB, carol)));
      for (const token of [live.access_token, doomed.access_token]) {
        assert.equal(await guardStatus(guard, token), 200);
        assert.equal((await apiB.get('/users/me', { token })).status, 200);
      }
      const traffic = backgroundLoad([apiA, apiB], load);
      await sleep(300);
      const started = Date.now();
      await redis.stop();
      mark(t, started, 'Redis killed (SIGKILL)');

      // The lockout needs Redis, and fails closed: sign-ins are refused, not let through unchecked.
      assertUnavailable(
        await timed(apiA, 'POST', '/token', { grant_type: 'password', ...carol }, { form: true }),
        'password grant without Redis',
      );
      // Verification needs no Redis, nor do refreshes and registrations (rate limits fail open).
      for (const api of [apiA, apiB]) {
        const me = await timed(api, 'GET', '/users/me', undefined, { token: live.access_token });
        assert.equal(me.status, 200, me.text);
        assert.equal((await timed(api, 'GET', '/readyz')).status, 503);
      }
      assert.equal(await guardStatus(guard, live.access_token), 200);
      assert.equal((await timed(apiB, 'POST', '/register', newIdentity('outage'))).status, 201);
      mark(t, started, 'password grant 503; /users/me 200; register 201; /readyz 503; guard 200');

      // A logout while Redis is away: the other instance learns it from the database...
      const out = await timed(apiA, 'POST', '/logout', {}, { token: doomed.access_token });
      assert.ok(out.status < 300, out.text);
      const reach = await until('the logout at B without Redis', 2_000, async () => {
        return (await apiB.get('/users/me', { token: doomed.access_token })).status === 401;
      });
      mark(
        t,
        started,
        `logout at A during the outage refused at B after ${reach} ms (database poll)`,
      );
      await sleep(2_000);
      assert.equal(w.a.child.exitCode, null, 'instance A is alive');
      assert.equal(w.b.child.exitCode, null, 'instance B is alive');
      assert.equal(guard.child.exitCode, null, 'the guard is alive');

      // ...and the guard, which only follows Redis, once Redis is back (an empty one: no
      // persistence), because the instance writes again what Redis did not take.
      await redis.start();
      const back = Date.now();
      mark(t, started, 'Redis started again (empty)');
      const guardMs = await until('the outage logout at the guard', RECOVER_WITHIN_MS, async () => {
        return (await guardStatus(guard, doomed.access_token)) === 401;
      });
      mark(t, started, `guard refuses the outage's logout ${guardMs} ms after Redis is back`);
      for (const [name, api] of [
        ['A', apiA],
        ['B', apiB],
      ] as const) {
        await until(`/readyz of ${name}`, RECOVER_WITHIN_MS, async () => {
          return (await api.get('/readyz', { timeoutMs: 5_000 })).status === 200;
        });
      }
      const loginMs = await until('a sign-in after Redis is back', RECOVER_WITHIN_MS, async () => {
        const answer = await apiA.post(
          '/token',
          { grant_type: 'password', ...carol },
          { form: true, timeoutMs: 5_000 },
        );
        return answer.status === 200;
      });
      mark(
        t,
        started,
        `sign-in works ${Date.now() - back} ms after Redis is back (${loginMs} ms polling)`,
      );
      const bad = await traffic.stop();
      assert.deepEqual(bad, [], 'background traffic: only 200 or 503 + Retry-After, in time');
      mark(
        t,
        started,
        `background traffic: ${traffic.counts.ok} × 200, ${traffic.counts.unavailable} × 503, nothing else`,
      );
      assert.equal(await guardStatus(guard, live.access_token), 200);
      assert.equal(await guardStatus(guard, doomed.access_token), 401);

      // And the Redis path works again: a new logout reaches the guard at once.
      const after = await signIn(apiB, carol);
      assert.equal(await guardStatus(guard, after.access_token), 200);
      assert.ok((await apiB.post('/logout', {}, { token: after.access_token })).status < 300);
      const ms = await until('a logout after the outage at the guard', 1_000, async () => {
        return (await guardStatus(guard, after.access_token)) === 401;
      });
      mark(t, started, `a logout after the outage reaches the guard in ${ms} ms`);
      assertNoUnhandled(w.a, 'instance A');
      assertNoUnhandled(w.b, 'instance B');
    });
  });

  after(() => {
    if (timeline.length > 0) console.log(`outage timelines:\n${timeline.join('\n')}`);
  });
}
