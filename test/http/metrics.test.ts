// GET /metrics: Prometheus text through prom-client, the families of SPEC §11 fed by real traffic,
// route labels from the route pattern, and access by METRICS_TOKEN or from loopback only.
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/server/app.ts';
import { client, registerAndLogin } from '../support/http.ts';
import { startServer, type TestServer } from '../support/server.ts';

/** The value of one series (name and exact label text), or undefined. */
function series(text: string, name: string, labels = ''): number | undefined {
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith(`${name}${labels ? `{${labels}` : ''}`) &&
        (labels || /[ {]/.test(l[name.length] ?? '')),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      env: { LOCKOUT_THRESHOLD: '2', RATE_LIMIT_REGISTER: '3/1m' },
    });
  });
  after(() => server?.close());

  it('counts what happened: requests by route pattern, sign-ins, refreshes, reuse, lockouts, rate limits, hashing, queries', async () => {
    const api = client(server.url);
    const alice = await registerAndLogin(api, 'metrics');
    await api.post(
      '/token',
      { username: alice.username, password: 'wrong-password-1' },
      { form: true },
    );
    const rotated = await api.post<{ refresh_token: string }>(
      '/token',
      { grant_type: 'refresh_token', refresh_token: alice.tokens.refresh_token },
      { form: true },
    );
    assert.equal(rotated.status, 200);
    await api.post(
      '/token',
      { grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token },
      { form: true },
    );
    // Past the grace window, the first token again: reuse, and the session ends.
    server.clock.advance(60_000);
    const reuse = await api.post(
      '/token',
      { grant_type: 'refresh_token', refresh_token: alice.tokens.refresh_token },
      { form: true },
    );
    assert.equal(reuse.status, 400);
    // Two more failures: the account is slowed down.
    for (let i = 0; i < 3; i++) {
      await api.post(
        '/token',
        { username: alice.username, password: `wrong-${i}-password` },
        { form: true },
      );
    }
    for (let i = 0; i < 4; i++)
      await api.post('/register', { email: 'x', username: 'x', password: 'x' });
    await api.get('/users/someone-else', { token: rotated.body.refresh_token });
    await api.get('/no/such/path/123');

    const answer = await api.get('/metrics');
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = answer.text;
    assert.ok(
      (series(
        text,
        'portcullis_http_requests_total',
        'route="/token",method="POST",status="200"',
      ) ?? 0) >= 2,
    );
    assert.ok(
      series(text, 'portcullis_http_requests_total', 'route="/users/:username",method="GET"') !==
        undefined || text.includes('route="/users/:username"'),
    );
    assert.ok(text.includes('route="(unmatched)"'), 'unmatched paths share one label');
    assert.ok(
      !text.includes('someone-else') && !text.includes('/no/such/path'),
      'never a raw path',
    );
    assert.ok((series(text, 'portcullis_logins_total', 'outcome="success"') ?? 0) >= 1);
    assert.ok((series(text, 'portcullis_logins_total', 'outcome="failure"') ?? 0) >= 1);
    assert.ok((series(text, 'portcullis_refreshes_total', 'outcome="success"') ?? 0) >= 2);
    assert.ok((series(text, 'portcullis_refreshes_total', 'outcome="refused"') ?? 0) >= 1);
    assert.equal(series(text, 'portcullis_refresh_reuse_detections_total'), 1);
    assert.ok((series(text, 'portcullis_lockouts_total') ?? 0) >= 1);
    assert.ok(
      (series(text, 'portcullis_rate_limit_refusals_total', 'policy="register"') ?? 0) >= 1,
    );
    assert.ok((series(text, 'portcullis_password_hash_duration_seconds_count') ?? 0) >= 3);
    assert.ok((series(text, 'portcullis_db_query_duration_seconds_count') ?? 0) >= 10);
    assert.ok(series(text, 'portcullis_password_hash_queue_depth') !== undefined);
    assert.ok(
      series(
        text,
        'portcullis_http_request_duration_seconds_count',
        'route="/token",method="POST"',
      ) !== undefined,
    );
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
    ]) {
      assert.ok(text.includes(`\n${name}`) || text.startsWith(name), name);
    }
    // No secret ever reaches the scrape.
    assert.ok(!text.includes(alice.password) && !text.includes(alice.tokens.refresh_token));
  });
});

describe('GET /metrics access', () => {
  it('with METRICS_TOKEN: 401 without it or with a wrong one, 200 with it', async () => {
    const server = await startServer({ env: { METRICS_TOKEN: 'scrape-token-0123456789' } });
    try {
      const api = client(server.url);
      const none = await api.get('/metrics');
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal((await api.get('/metrics', { token: 'scrape-token-wrong-0000' })).status, 401);
      const ok = await api.get('/metrics', { token: 'scrape-token-0123456789' });
      assert.equal(ok.status, 200);
      assert.match(ok.text, /portcullis_http_requests_total/);
    } finally {
      await server.close();
    }
  });

  it('without METRICS_TOKEN: only loopback peers; X-Forwarded-For cannot make a remote one local', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    assert.ok(external, 'this machine has a non-loopback IPv4 address to test from');
    const base = await startServer({ env: { TRUST_PROXY: external.address } });
    const app = await buildApp(base.config, {});
    try {
      const address = await app.listen({ host: external.address, port: 0 });
      const remote = client(address);
      const refused = await remote.get('/metrics');
      assert.equal(refused.status, 403);
      const spoofed = await remote.get('/metrics', { headers: { 'x-forwarded-for': '127.0.0.1' } });
      assert.equal(spoofed.status, 403);
      assert.equal((await client(base.url).get('/metrics')).status, 200);
    } finally {
      await app.close();
      await base.close();
    }
  });
});
