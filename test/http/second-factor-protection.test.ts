// Black-box: failed second factors count toward the account lockout (SPEC §5), and the mail and
// 2FA endpoints draw on their rate-limit budgets; on SQLite (memory kv) and PostgreSQL + Redis.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Client, client, registerAndLogin } from '../support/http.ts';
import { testBackends } from '../support/redis.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { base32Decode, totp } from '../support/totp.ts';

const GRANT = 'urn:portcullis:grant-type:mfa-otp';
const THRESHOLD = 3;
const BASE = 30;

for (const backend of testBackends()) {
  describe(`second-factor lockout on ${backend.name}`, () => {
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

    const code = (secret: string, steps = 0) =>
      totp(base32Decode(secret), server.clock() + steps * 30_000);
    const wrong = (secret: string) =>
      String((Number(code(secret)) + 500_000) % 1_000_000).padStart(6, '0');

    async function enrolled() {
      const who = await registerAndLogin(api, 'locked');
      const auth = { token: who.tokens.access_token };
      const { body } = await api.post<{ secret: string }>('/users/me/totp', undefined, auth);
      const confirmed = await api.post('/users/me/totp/confirm', { code: code(body.secret) }, auth);
      assert.equal(confirmed.status, 200);
      server.clock.advance(30_000);
      return { ...who, secret: body.secret };
    }
    const passwordGrant = (who: { username: string; password: string }) =>
      api.post('/token', { grant_type: 'password', ...who }, { form: true });
    async function mfaToken(who: { username: string; password: string }): Promise<string> {
      const answer = await passwordGrant(who);
      assert.equal(answer.body.error, 'mfa_required', answer.text);
      return String(answer.body.mfa_token);
    }
    const otpGrant = (mfa: string, otp: string) =>
      api.post('/token', { grant_type: GRANT, mfa_token: mfa, otp }, { form: true });

    it('wrong codes lock the account: the right code and the right password wait too', async () => {
      const who = await enrolled();
      const mfa = await mfaToken(who);
      for (let i = 0; i < THRESHOLD; i++) {
        const answer = await otpGrant(mfa, wrong(who.secret));
        assert.equal(answer.status, 400);
        assert.equal(answer.body.error, 'invalid_grant');
      }
      const locked = await otpGrant(mfa, code(who.secret));
      assert.equal(locked.status, 429, locked.text);
      assert.equal(locked.body.error, 'too_many_attempts');
      assert.match(locked.headers.get('content-type') ?? '', /^application\/json/);
      const retry = Number(locked.headers.get('retry-after'));
      assert.ok(retry > 0 && retry <= BASE, `Retry-After ${retry}`);
      // The same lockout as passwords: the password step waits as well, under either name.
      assert.equal((await passwordGrant(who)).status, 429);
      assert.equal((await passwordGrant({ ...who, username: who.email })).status, 429);

      server.clock.advance((BASE + 1) * 1000);
      // The delay ended: the same mfa_token (3 of its 5 tries used, within 5 minutes) still works.
      assert.equal((await otpGrant(mfa, code(who.secret))).status, 200);
      // A success cleared the count: the next failures start from zero.
      server.clock.advance(30_000);
      const next = await mfaToken(who);
      for (let i = 0; i < THRESHOLD - 1; i++)
        assert.equal((await otpGrant(next, wrong(who.secret))).status, 400);
      assert.equal((await otpGrant(next, code(who.secret))).status, 200);
    });

    it('wrong codes and passwords when turning 2FA off count toward the same lockout', async () => {
      const who = await enrolled();
      const auth = { token: who.tokens.access_token };
      assert.equal(
        (await api.del('/users/me/totp', { code: wrong(who.secret) }, auth)).status,
        400,
      );
      assert.equal(
        (await api.del('/users/me/totp', { password: 'not the password here' }, auth)).status,
        400,
      );
      assert.equal(
        (await api.del('/users/me/totp', { code: wrong(who.secret) }, auth)).status,
        400,
      );
      const locked = await api.del('/users/me/totp', { password: who.password }, auth);
      assert.equal(locked.status, 429);
      assert.equal(locked.body.code, 'too_many_attempts');
      assert.ok(Number(locked.headers.get('retry-after')) > 0);
      assert.equal((await api.get('/users/me/totp', auth)).body.enabled, true);
      server.clock.advance((BASE + 1) * 1000);
      assert.equal((await api.del('/users/me/totp', { password: who.password }, auth)).status, 204);
    });
  });

  describe(`rate limits of the mail and 2FA endpoints on ${backend.name}`, () => {
    let server: TestServer;
    let api: Client;
    before(async () => {
      server = await startServer({
        db: backend.db,
        env: { ...backend.env(), RATE_LIMIT_PASSWORD: '3/1m', RATE_LIMIT_TOTP: '2/1m' },
      });
      api = client(server.url);
    });
    after(() => server.close());

    it('/password/*, /verify* share one budget per address; 429 rate_limited past it', async () => {
      const who = await registerAndLogin(api, 'limited');
      assert.equal((await api.post('/password/forgot', { email: who.email })).status, 202);
      assert.equal(
        (await api.post('/password/reset', { token: 'x', new_password: 'y' })).status,
        400,
      );
      assert.equal((await api.post('/verify', { token: 'x' })).status, 400);
      const limited = await api.post('/password/forgot', { email: 'ghost@example.com' });
      assert.equal(limited.status, 429);
      assert.equal(limited.body.code, 'rate_limited');
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      const verify = await api.post('/verify/request', undefined, {
        token: who.tokens.access_token,
      });
      assert.equal(verify.status, 429);
      server.clock.advance(61_000);
      assert.equal((await api.post('/password/forgot', { email: who.email })).status, 202);
    });

    it('/users/me/totp* share one budget per address', async () => {
      const who = await registerAndLogin(api, 'limited2fa');
      const auth = { token: who.tokens.access_token };
      assert.equal((await api.get('/users/me/totp', auth)).status, 200);
      assert.equal((await api.post('/users/me/totp', undefined, auth)).status, 200);
      const limited = await api.post('/users/me/totp/confirm', { code: '123456' }, auth);
      assert.equal(limited.status, 429);
      assert.equal(limited.body.code, 'rate_limited');
    });
  });
}
