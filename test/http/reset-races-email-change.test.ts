// Black-box regression tests of issue 10 item 8: a password reset checked what its token was bound
// to (the password and the address), hashed the new password, then set is_verified without looking
// again; an email change landing in between ended with the NEW address verified although no link
// ever reached it. Email verification had the same gap between its check and its write. Now the
// write that verifies applies only while the stored address is still the one the link went to.
//
// The reset's window is widened with a slower hash (≈100 ms here), and the change of address
// (PATCH /users/me, which needs no password and so no hash) is sent inside it, at offsets spread
// over the window. Verification has no hash to widen its window, so its rounds start both requests
// together at a spread of small offsets. On SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Account, superuser, wait } from '../support/fixtures.ts';
import { type Answer, type Client, client, registerAndLogin } from '../support/http.ts';
import { linkToken, outboxMail } from '../support/mail.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

const SLOW_HASH = { PASSWORD_HASH_MEMORY_KIB: '16384', PASSWORD_HASH_TIME_COST: '50' };
const RESET_ROUNDS = 12;
const VERIFY_ROUNDS = 40;
const FILLERS = 20;

type Row = { id: string; email: string; is_verified: boolean };

/** The user as stored, read by an administrator (the reset ends the user's own sessions). */
async function stored(api: Client, admin: Account, username: string): Promise<Row> {
  const list = await api.get<{ items: Row[] }>(`/admin/users?q=${encodeURIComponent(username)}`, {
    token: admin.tokens.access_token,
  });
  assert.equal(list.status, 200, list.text);
  const [row] = list.body.items;
  assert.ok(row, `user ${username} listed`);
  return row;
}

/** Starts `first`, waits `ms` (none when 0), starts `second`; both answers. */
async function race(
  first: () => Promise<Answer>,
  ms: number,
  second: () => Promise<Answer>,
): Promise<[Answer, Answer]> {
  const a = first();
  if (ms > 0) await wait(ms);
  const b = second();
  return [await a, await b];
}

for (const db of testDatabases()) {
  describe(`a password reset racing an email change on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    let admin: Account;
    before(async () => {
      server = await startServer({ db, env: SLOW_HASH });
      api = client(server.url);
      admin = await superuser(server, api);
    });
    after(() => server.close());

    it('the reset verified the new address that no link reached: the new address stays unverified', async (t) => {
      const outcomes: string[] = [];
      for (let round = 0; round < RESET_ROUNDS; round++) {
        const who = await registerAndLogin(api, `racer${round}x`);
        assert.equal((await api.post('/password/forgot', { email: who.email })).status, 202);
        const mail = await outboxMail(server.dataDir, who.email, 1, /Reset/);
        const token = linkToken(mail, server.config.publicUrl, 'reset');
        const moved = `moved-${who.email}`;
        const newPassword = `a new password ${round} for ${who.username}`;
        // Inside the reset's hash, at 10 to 65 ms after it was sent.
        const [reset, patch] = await race(
          () => api.post('/password/reset', { token, new_password: newPassword }),
          10 + (round % 12) * 5,
          () => api.patch('/users/me', { email: moved }, { token: who.tokens.access_token }),
        );
        assert.equal(patch.status, 200, patch.text);
        const row = await stored(api, admin, who.username);
        assert.equal(row.email, moved);
        outcomes.push(`${reset.status} ${row.is_verified ? 'verified' : 'unverified'}`);
        // The password itself is reset when the link was good as it was used.
        if (reset.status === 204) {
          const signedIn = await api.post(
            '/token',
            { grant_type: 'password', username: who.username, password: newPassword },
            { form: true },
          );
          assert.equal(signedIn.status, 200, signedIn.text);
        } else {
          assert.equal(reset.status, 400, reset.text);
          assert.equal(reset.body.code, 'invalid_or_expired_token');
        }
      }
      t.diagnostic(`answer and final state per round: ${outcomes.join(', ')}`);
      const verified = outcomes.filter((x) => x.endsWith(' verified'));
      assert.equal(
        verified.length,
        0,
        `rounds that verified the new address: ${outcomes.join(', ')}`,
      );
      // Most rounds must have overlapped the hash (the link still good when used), or the test
      // proves nothing.
      assert.ok(
        outcomes.filter((x) => x.startsWith('204')).length >= RESET_ROUNDS / 2,
        outcomes.join(', '),
      );
    });

    it('a reset that does not overlap a change still verifies the address the link reached', async () => {
      const who = await registerAndLogin(api, 'plainreset');
      assert.equal((await api.post('/password/forgot', { email: who.email })).status, 202);
      const mail = await outboxMail(server.dataDir, who.email, 1, /Reset/);
      const token = linkToken(mail, server.config.publicUrl, 'reset');
      const reset = await api.post('/password/reset', {
        token,
        new_password: `another new password for ${who.username}`,
      });
      assert.equal(reset.status, 204, reset.text);
      const row = await stored(api, admin, who.username);
      assert.deepEqual([row.email, row.is_verified], [who.email, true]);
    });
  });

  describe(`email verification racing an email change on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    let busy: { token: string };
    const tag = Math.random().toString(36).slice(2, 6);
    before(async () => {
      server = await startServer({ db });
      api = client(server.url);
      busy = { token: (await registerAndLogin(api, 'busy')).tokens.access_token };
    });
    after(() => server.close());

    it('the verification link of the old address verified the new one: the new address stays unverified', async (t) => {
      const outcomes: string[] = [];
      for (let round = 0; round < VERIFY_ROUNDS; round++) {
        const who = await registerAndLogin(api, `verifier${round}x`);
        const auth = { token: who.tokens.access_token };
        assert.equal((await api.post('/verify/request', undefined, auth)).status, 202);
        const mail = await outboxMail(server.dataDir, who.email, 1, /Confirm your email/);
        const token = linkToken(mail, server.config.publicUrl, 'verify');
        const moved = `moved-${who.email}`;
        // Other users keep the database busy, so the two requests' steps interleave widely; the
        // change is sent 1 to 3 ms before the verification (it has the bearer token to check).
        const load = Array.from({ length: FILLERS }, (_, i) =>
          api.patch('/users/me', { username: `busy${round}n${i}${tag}` }, busy),
        );
        const [patch, verify] = await race(
          () => api.patch('/users/me', { email: moved }, auth),
          [1, 1, 2, 3][round % 4] ?? 1,
          () => api.post('/verify', { token }),
        );
        for (const answer of await Promise.all(load)) assert.equal(answer.status, 200, answer.text);
        assert.equal(patch.status, 200, patch.text);
        const me = await api.get<Row>('/users/me', auth);
        assert.equal(me.body.email, moved);
        outcomes.push(`${verify.status} ${me.body.is_verified ? 'verified' : 'unverified'}`);
        if (verify.status !== 204) {
          assert.equal(verify.status, 400, verify.text);
          assert.equal(verify.body.code, 'invalid_or_expired_token');
        }
      }
      t.diagnostic(`answer and final state per round: ${outcomes.join(', ')}`);
      const verified = outcomes.filter((x) => x.endsWith(' verified'));
      assert.equal(
        verified.length,
        0,
        `rounds that verified the new address: ${outcomes.join(', ')}`,
      );
    });
  });
}
