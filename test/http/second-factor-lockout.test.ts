// Black-box regression tests of issue 10 item 6: unlimited second-factor guessing for anyone who
// knows the password. A correct password cleared the lockout of the name as typed, while wrong codes
// counted under both names, so alternating `username` between the username and the email (right
// password, wrong code) never reached the threshold. Second-factor failures now count against the
// account itself, and only a correct second factor clears them; on /token (mfa-otp grant) and on the
// cookie /login. Also: a right password clears what was counted under either name of the account.
// On SQLite (memory kv) and PostgreSQL + Redis; the server's clock is frozen.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Answer, type Client, client, registerAndLogin } from '../support/http.ts';
import { testBackends } from '../support/redis.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { base32Decode, totp } from '../support/totp.ts';

const GRANT = 'urn:portcullis:grant-type:mfa-otp';
const THRESHOLD = 3;
const BASE = 30;
// The probe: 40 wrong codes, none of them ever refused.
const ROUNDS = 40;

const outcome = (answer: Answer): string =>
  `${answer.status} ${String(answer.body?.error ?? answer.body?.code ?? '')}`;

for (const backend of testBackends()) {
  describe(`second-factor lockout by account on ${backend.name}`, () => {
    let server: TestServer;
    let api: Client;
    before(async () => {
      server = await startServer({
        db: backend.db,
        env: {
          ...backend.env(),
          LOCKOUT_THRESHOLD: String(THRESHOLD),
          LOCKOUT_BASE_SECONDS: String(BASE),
        },
      });
      api = client(server.url);
    });
    after(() => server.close());

    const code = (secret: string) => totp(base32Decode(secret), server.clock());
    const wrong = (secret: string) =>
      String((Number(code(secret)) + 500_000) % 1_000_000).padStart(6, '0');

    async function enrolled() {
      const who = await registerAndLogin(api, 'guessed');
      const auth = { token: who.tokens.access_token };
      const { body } = await api.post<{ secret: string }>('/users/me/totp', undefined, auth);
      const confirmed = await api.post('/users/me/totp/confirm', { code: code(body.secret) }, auth);
      assert.equal(confirmed.status, 200, confirmed.text);
      server.clock.advance(30_000);
      return { ...who, secret: body.secret };
    }
    const passwordGrant = (username: string, password: string) =>
      api.post('/token', { grant_type: 'password', username, password }, { form: true });
    const otpGrant = (mfaToken: string, otp: string) =>
      api.post('/token', { grant_type: GRANT, mfa_token: mfaToken, otp }, { form: true });
    async function mfaToken(username: string, password: string): Promise<string> {
      const answer = await passwordGrant(username, password);
      assert.equal(answer.body.error, 'mfa_required', answer.text);
      return String(answer.body.mfa_token);
    }

    /** What the rounds answered: wrong codes first, then the lockout from the threshold on. */
    const expected = (failed: string): string[] =>
      Array.from({ length: ROUNDS }, (_, i) => (i < THRESHOLD ? failed : '429 too_many_attempts'));

    it('alternating username and email with the right password reset the second-factor count on /token: wrong codes never locked', async () => {
      const who = await enrolled();
      // Taken before the guessing starts: the right code on it must wait for the delay too.
      const spare = await mfaToken(who.username, who.password);
      const seen: string[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const name = i % 2 ? who.email : who.username;
        const step = await passwordGrant(name, who.password);
        if (step.body.error !== 'mfa_required') {
          seen.push(outcome(step));
          continue;
        }
        seen.push(outcome(await otpGrant(String(step.body.mfa_token), wrong(who.secret))));
      }
      assert.deepEqual(seen, expected('400 invalid_grant'));

      const locked = await otpGrant(spare, code(who.secret));
      assert.equal(outcome(locked), '429 too_many_attempts', locked.text);
      const retry = Number(locked.headers.get('retry-after'));
      assert.ok(retry > 0, `Retry-After ${locked.headers.get('retry-after')}`);

      // The delay ends; the right code gets in and clears the count.
      server.clock.advance(retry * 1000);
      assert.equal((await otpGrant(spare, code(who.secret))).status, 200);
      server.clock.advance(30_000);
      for (let i = 0; i < THRESHOLD - 1; i++) {
        const mfa = await mfaToken(i % 2 ? who.email : who.username, who.password);
        assert.equal((await otpGrant(mfa, wrong(who.secret))).status, 400);
      }
      const mfa = await mfaToken(who.email, who.password);
      assert.equal((await otpGrant(mfa, code(who.secret))).status, 200);
    });

    it('alternating username and email with the right password reset the second-factor count on /login: wrong codes never locked', async () => {
      const who = await enrolled();
      const login = (username: string, otp: string) =>
        api.post('/login', { username, password: who.password, otp });
      const seen: string[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        seen.push(outcome(await login(i % 2 ? who.email : who.username, wrong(who.secret))));
      }
      assert.deepEqual(seen, expected('400 invalid_otp'));

      // The right password and the right code wait for the delay as well, under either name.
      const locked = await login(who.username, code(who.secret));
      assert.equal(outcome(locked), '429 too_many_attempts', locked.text);
      assert.match(locked.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const retry = Number(locked.headers.get('retry-after'));
      assert.ok(retry > 0, `Retry-After ${locked.headers.get('retry-after')}`);
      assert.equal(outcome(await login(who.email, code(who.secret))), '429 too_many_attempts');

      server.clock.advance(retry * 1000);
      const accepted = await login(who.email, code(who.secret));
      assert.equal(accepted.status, 200, accepted.text);
    });

    it('a right password under one name left the failures counted under the account’s other name', async () => {
      const who = await registerAndLogin(api, 'twonames');
      const wrongPassword = () => passwordGrant(who.email, 'not the password at all');
      for (let i = 0; i < THRESHOLD - 1; i++)
        assert.equal(outcome(await wrongPassword()), '400 invalid_grant');
      // The owner signs in by username: a success clears the count of the whole account.
      assert.equal((await passwordGrant(who.username, who.password)).status, 200);
      for (let i = 0; i < THRESHOLD - 1; i++)
        assert.equal(outcome(await wrongPassword()), '400 invalid_grant');
      assert.equal((await passwordGrant(who.email, who.password)).status, 200);
    });
  });
}
