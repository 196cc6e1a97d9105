// Black-box: the client address (SPEC §5). Without TRUST_PROXY the socket's address is the client:
// a spoofed X-Forwarded-For changes neither the rate-limit bucket nor a session's `ip`. With
// TRUST_PROXY naming the peer (127.0.0.1 here), the nearest untrusted X-Forwarded-For hop is used.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { addressBucket } from '../../src/server/rate-limit.ts';
import { type Client, client, newIdentity } from '../support/http.ts';
import type { TestDatabase } from '../support/postgres.ts';
import { testBackends } from '../support/redis.ts';
import { startServer, type TestServer } from '../support/server.ts';

const HOUR = 3_600_000;

interface Setup {
  server: TestServer;
  api: Client;
}

async function setUp(db: TestDatabase, env: Record<string, string>): Promise<Setup> {
  const server = await startServer({ db, env: { RATE_LIMIT_REGISTER: '3/1h', ...env } });
  return { server, api: client(server.url) };
}

/** Each test starts in a fresh rate-limit window: the frozen clock jumps to the next hour. */
function nextHour(server: TestServer): void {
  server.clock.set((Math.floor(server.clock() / HOUR) + 1) * HOUR);
}

const spoofed = (address: string): Record<string, string> => ({
  'x-forwarded-for': address,
  'x-real-ip': address,
  forwarded: `for=${address}`,
});

/** Registers through the given headers; returns the status. */
async function register(api: Client, headers: Record<string, string>): Promise<number> {
  return (await api.post('/register', newIdentity('ip'), { headers })).status;
}

/** The `ip` recorded for a session started with these headers. */
async function sessionIp(api: Client, headers: Record<string, string>): Promise<unknown> {
  const who = newIdentity('ip');
  assert.equal((await api.post('/register', who, { headers })).status, 201);
  const answer = await api.post(
    '/token',
    { username: who.username, password: who.password },
    { form: true, headers },
  );
  assert.equal(answer.status, 200, answer.text);
  const token = (answer.body as { access_token: string }).access_token;
  const sessions = await api.get<Array<{ ip: unknown }>>('/users/me/sessions', { token });
  return sessions.body[0]?.ip;
}

for (const backend of testBackends()) {
  describe(`client address on ${backend.name}`, () => {
    describe('without TRUST_PROXY', () => {
      let s: Setup;
      before(async () => {
        s = await setUp(backend.db, backend.env());
      });
      beforeEach(() => nextHour(s.server));
      after(() => s.server.close());

      it('a spoofed X-Forwarded-For (or X-Real-IP, Forwarded) earns no new rate-limit budget', async () => {
        const statuses: number[] = [];
        for (const address of ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']) {
          statuses.push(await register(s.api, spoofed(address)));
        }
        assert.deepEqual(statuses, [201, 201, 201, 429]);
      });

      it('records the socket address as the session ip, whatever the headers say', async () => {
        assert.equal(await sessionIp(s.api, spoofed('203.0.113.9')), '127.0.0.1');
      });
    });

    describe('with TRUST_PROXY=127.0.0.1', () => {
      let s: Setup;
      before(async () => {
        s = await setUp(backend.db, { ...backend.env(), TRUST_PROXY: '127.0.0.1' });
      });
      beforeEach(() => nextHour(s.server));
      after(() => s.server.close());

      it('gives each forwarded client its own budget, and refuses the fourth from one client', async () => {
        const xff = (a: string) => ({ 'x-forwarded-for': a });
        const others = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'];
        const statuses: number[] = [];
        for (const address of others) statuses.push(await register(s.api, xff(address)));
        assert.deepEqual(statuses, [201, 201, 201, 201]);
        const same: number[] = [];
        for (let i = 0; i < 4; i++) same.push(await register(s.api, xff('198.51.100.50')));
        assert.deepEqual(same, [201, 201, 201, 429]);
      });

      it('records the forwarded client as the session ip', async () => {
        assert.equal(await sessionIp(s.api, { 'x-forwarded-for': '203.0.113.9' }), '203.0.113.9');
      });

      it('takes the nearest untrusted hop: what the client wrote to the left is ignored', async () => {
        const forged = { 'x-forwarded-for': '6.6.6.6, 203.0.113.10' };
        assert.equal(await sessionIp(s.api, forged), '203.0.113.10');
      });

      it('puts one IPv6 /64 in one bucket', async () => {
        const xff = (a: string) => ({ 'x-forwarded-for': a });
        const statuses: number[] = [];
        for (const address of [
          '2001:db8:1:2::1',
          '2001:db8:1:2::2',
          '2001:db8:1:2:ffff::9',
          '2001:db8:1:2::3',
        ]) {
          statuses.push(await register(s.api, xff(address)));
        }
        assert.deepEqual(statuses, [201, 201, 201, 429]);
        assert.equal(
          await register(s.api, xff('2001:db8:1:3::1')),
          201,
          'the next /64 is another client',
        );
      });
    });

    describe('with TRUST_PROXY naming another proxy', () => {
      let s: Setup;
      before(async () => {
        s = await setUp(backend.db, { ...backend.env(), TRUST_PROXY: '10.0.0.0/8, 192.168.1.1' });
      });
      after(() => s.server.close());

      it('ignores X-Forwarded-For from a peer it does not trust', async () => {
        assert.equal(await sessionIp(s.api, spoofed('10.1.2.3')), '127.0.0.1');
      });
    });
  });
}

describe('addressBucket', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6, and cuts IPv6 to its /64', () => {
    assert.equal(addressBucket('203.0.113.7'), '203.0.113.7');
    assert.equal(addressBucket('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(addressBucket('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(addressBucket('2001:0DB8:0001:0002::9'), '2001:db8:1:2::/64');
    assert.equal(addressBucket('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressBucket('::1'), '0:0:0:0::/64');
    assert.equal(addressBucket('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressBucket('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
  });
});
