// The guard's revocation awareness (SPEC §7, §11): a session ended on the server is refused by a guard
// in another process within 1 second — measured here — and a guard started after the fact, or
// reconnected, still knows it. Real processes: Portcullis in this one, the guard in a child, Redis.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type GuardProcess, startGuard as launchGuard } from '../support/guard.ts';
import { type Client, client, registerAndLogin } from '../support/http.ts';
import { redisEnv, requireRedisUrl, uniquePrefix } from '../support/redis.ts';
import { startServer, type TestServer } from '../support/server.ts';

function startGuard(server: TestServer, prefix: string): Promise<GuardProcess> {
  return launchGuard({
    issuer: server.config.issuer,
    server: server.url,
    redisUrl: requireRedisUrl(),
    redisPrefix: prefix,
  });
}

async function status(url: string, token: string): Promise<number> {
  return (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status;
}

/** ms from `since` until the guard refuses the token (polled every 5 ms, at most 5 s). */
async function refusedAfter(url: string, token: string, since: number): Promise<number> {
  while (performance.now() - since < 5_000) {
    if ((await status(url, token)) === 401) return performance.now() - since;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Number.POSITIVE_INFINITY;
}

describe('the guard with redisUrl, in another process', () => {
  let server: TestServer;
  let api: Client;
  let guard: GuardProcess;
  const prefix = uniquePrefix();
  const delays: number[] = [];

  before(async () => {
    server = await startServer({ env: redisEnv(prefix) });
    api = client(server.url);
    guard = await startGuard(server, prefix);
  });
  after(async () => {
    await guard?.stop();
    await server?.close();
    if (delays.length > 0) {
      const sorted = [...delays].sort((a, b) => a - b);
      console.log(
        `guard revocation delay over ${sorted.length} logouts: median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms`,
      );
    }
  });

  it('refuses a logged-out session within 1 second (10 logouts measured)', async () => {
    for (let i = 0; i < 10; i++) {
      const user = await registerAndLogin(api, `g${i}`);
      assert.equal(await status(guard.url, user.tokens.access_token), 200);
      const since = performance.now();
      const out = await api.post('/logout', undefined, { token: user.tokens.access_token });
      assert.equal(out.status, 204);
      const delay = await refusedAfter(guard.url, user.tokens.access_token, since);
      delays.push(delay);
      assert.ok(delay < 1_000, `refused after ${delay} ms`);
    }
  });

  it('refuses tokens of a user whose password changed (a user-wide entry), and leaves others alone', async () => {
    const user = await registerAndLogin(api, 'pw');
    const other = await registerAndLogin(api, 'bystander');
    const second = await api.post<{ access_token: string }>(
      '/token',
      { username: user.username, password: user.password },
      { form: true },
    );
    const changed = await api.post(
      '/users/me/password',
      { current_password: user.password, new_password: 'a brand new passphrase 42' },
      { token: user.tokens.access_token },
    );
    assert.equal(changed.status, 204);
    const delay = await refusedAfter(guard.url, second.body.access_token, performance.now());
    assert.ok(delay < 1_000, `refused after ${delay} ms`);
    assert.equal(await status(guard.url, other.tokens.access_token), 200);
  });

  it('a guard started after the logout, or restarted, still refuses it (read back from the stream)', async () => {
    const user = await registerAndLogin(api, 'late');
    await guard.stop();
    assert.equal(
      (await api.post('/logout', undefined, { token: user.tokens.access_token })).status,
      204,
    );
    guard = await startGuard(server, prefix);
    assert.equal(await status(guard.url, user.tokens.access_token), 401);
    const alive = await registerAndLogin(api, 'alive');
    assert.equal(await status(guard.url, alive.tokens.access_token), 200);
  });
});
