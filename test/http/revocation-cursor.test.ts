// Black-box regression tests of issue 10 item 5: without Redis, instances polled the revocations
// table for entries newer than their last poll minus 5 s, by the time the revoking host wrote in
// the entry, taken before its transaction committed. A revoking host whose clock ran 10 s behind,
// or a revocation committed more than ~6 s after its time was taken, was never seen by the other
// instance: a logged-out or deactivated user's access token kept working there until it expired.
// The poll now follows the database's own commit order.
//
// Two instances on one database, no Redis, clocks that run in real time (with an offset). On the
// old code every test here failed: B answered 200 for as long as the test waited.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { superuser, wait } from '../support/fixtures.ts';
import { type Client, client, registerAndLogin } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestClock, type TestServer } from '../support/server.ts';

const POLL_MS = 200;
// Far beyond a poll: what B has not learnt by then, it never learns.
const PATIENCE_MS = 3_000;
const ENV = { REVOCATION_POLL_MS: String(POLL_MS) };

/** A clock that runs with real time, `offsetMs` away from it (a host with a skewed clock). */
function runningClock(offsetMs: number): TestClock {
  let offset = offsetMs;
  const clock = (() => Date.now() + offset) as TestClock;
  clock.advance = (ms) => {
    offset += ms;
  };
  clock.set = (ms) => {
    offset = ms - Date.now();
  };
  return clock;
}

interface Pair {
  a: TestServer;
  b: TestServer;
  apiA: Client;
  apiB: Client;
  close(): Promise<void>;
}

async function startPair(db: 'sqlite' | 'postgres', skewOfAMs: number): Promise<Pair> {
  const a = await startServer({ db, env: ENV, clock: runningClock(skewOfAMs) });
  const b = await startServer({
    env: ENV,
    clock: runningClock(0),
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

/** The status B answers for the token once it should know, after waiting up to PATIENCE_MS. */
async function statusOnB(pair: Pair, token: string): Promise<number> {
  const start = performance.now();
  let status = 0;
  while (performance.now() - start < PATIENCE_MS) {
    status = (await pair.apiB.get('/users/me', { token })).status;
    if (status !== 200) return status;
    await wait(50);
  }
  return status;
}

for (const db of testDatabases()) {
  describe(`revocations seen by another instance without Redis, on ${db}`, () => {
    describe('the revoking instance’s clock 10 s behind', () => {
      let pair: Pair;
      before(async () => {
        pair = await startPair(db, -10_000);
      });
      after(() => pair.close());

      it('a logout on an instance whose clock is behind was never seen by the other: B refuses the token 401', async () => {
        // Signed by A: its iat is in B's past, so only the revocation can make B refuse it.
        const user = await registerAndLogin(pair.apiA, 'skewlogout');
        const token = user.tokens.access_token;
        assert.equal((await pair.apiB.get('/users/me', { token })).status, 200);
        await wait(POLL_MS * 2); // B has polled since it started
        const out = await pair.apiA.post('/logout', undefined, { token });
        assert.equal(out.status, 204, out.text);
        assert.equal((await pair.apiA.get('/users/me', { token })).status, 401);
        assert.equal(await statusOnB(pair, token), 401);
      });

      it('sessions ended by an admin on an instance whose clock is behind were never seen by the other: B refuses the token 401', async () => {
        const admin = await superuser(pair.a, pair.apiA);
        const user = await registerAndLogin(pair.apiA, 'skewadmin');
        const token = user.tokens.access_token;
        assert.equal((await pair.apiB.get('/users/me', { token })).status, 200);
        await wait(POLL_MS * 2);
        const ended = await pair.apiA.del(`/admin/users/${user.id}/sessions`, undefined, {
          token: admin.tokens.access_token,
        });
        assert.equal(ended.status, 204, ended.text);
        assert.equal(await statusOnB(pair, token), 401);
      });
    });

    // A slow commit needs a second writer to wait on. On SQLite the revoking write waits for the
    // file's write lock for at most busy_timeout (5 s) and then fails, so its entry can never commit
    // 6 s late that way; PostgreSQL lets a row lock hold the revoking transaction as long as needed.
    if (db === 'postgres') {
      describe('a revocation committed 7 s after its transaction began', () => {
        let pair: Pair;
        before(async () => {
          pair = await startPair(db, 0);
        });
        after(() => pair.close());

        it('a logout whose commit was held up was never seen by the other instance: B refuses the token 401', async () => {
          const user = await registerAndLogin(pair.apiA, 'slowcommit');
          const token = user.tokens.access_token;
          const sid = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString())
            .sid as string;
          assert.equal((await pair.apiB.get('/users/me', { token })).status, 200);
          // Another transaction holds the session's row, so the logout's update waits on it.
          const holder = new pg.Client({ connectionString: pair.a.databaseUrl });
          await holder.connect();
          try {
            await holder.query('begin');
            const locked = await holder.query('select id from sessions where id = $1 for update', [
              sid,
            ]);
            assert.equal(locked.rowCount, 1);
            const logout = pair.apiA.post('/logout', undefined, { token });
            await wait(7_000);
            assert.equal((await pair.apiB.get('/users/me', { token })).status, 200, 'not yet');
            await holder.query('commit');
            const out = await logout;
            assert.equal(out.status, 204, out.text);
          } finally {
            await holder.end();
          }
          assert.equal(await statusOnB(pair, token), 401);
        });
      });
    }
  });
}
