// Black-box: TOTP two-factor authentication on each database. Codes are computed by the independent
// RFC 6238 implementation in test/support/totp.ts from the secret the server hands out.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loginWithSecondFactor } from '../../src/auth/login/index.ts';
import { AppError } from '../../src/errors/index.ts';
import { openDatabase } from '../../src/store/database.ts';
import { type Client, client, login, registerAndLogin, type TokenPair } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { base32Decode, totp } from '../support/totp.ts';

const GRANT = 'urn:portcullis:grant-type:mfa-otp';
const STEP = 30_000;

type Who = Awaited<ReturnType<typeof registerAndLogin>>;
interface Enrolled extends Who {
  secret: string;
  recovery: string[];
}

for (const db of testDatabases()) {
  describe(`TOTP on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    before(async () => {
      server = await startServer({ db });
      api = client(server.url);
    });
    after(() => server.close());

    /** The code of the server's current step, moved by `steps`. */
    const code = (secret: string, steps = 0) =>
      totp(base32Decode(secret), server.clock() + steps * STEP);
    const nextStep = () => server.clock.advance(STEP);
    const bearer = (tokens: TokenPair) => ({ token: tokens.access_token });

    async function enrolled(prefix = 'mfa'): Promise<Enrolled> {
      const who = await registerAndLogin(api, prefix);
      const started = await api.post<{ secret: string }>(
        '/users/me/totp',
        undefined,
        bearer(who.tokens),
      );
      assert.equal(started.status, 200);
      const confirmed = await api.post<{ recovery_codes: string[] }>(
        '/users/me/totp/confirm',
        { code: code(started.body.secret) },
        bearer(who.tokens),
      );
      assert.equal(confirmed.status, 200, confirmed.text);
      nextStep();
      return { ...who, secret: started.body.secret, recovery: confirmed.body.recovery_codes };
    }

    const passwordGrant = (who: Who) =>
      api.post(
        '/token',
        { grant_type: 'password', username: who.username, password: who.password },
        { form: true },
      );
    async function mfaToken(who: Who): Promise<string> {
      const answer = await passwordGrant(who);
      assert.equal(answer.status, 400);
      assert.equal(answer.body.error, 'mfa_required');
      return String(answer.body.mfa_token);
    }
    const otpGrant = (mfa: unknown, otp: unknown) =>
      api.post<Record<string, unknown>>(
        '/token',
        { grant_type: GRANT, mfa_token: mfa, otp },
        { form: true },
      );

    it('enrolment: a 160-bit base32 secret, its otpauth URI and a QR code; nothing changes until confirmed', async () => {
      const who = await registerAndLogin(api, 'enrol');
      const answer = await api.post<{ secret: string; otpauth_uri: string; qr_svg: string }>(
        '/users/me/totp',
        undefined,
        bearer(who.tokens),
      );
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('cache-control'), 'no-store');
      const { secret, otpauth_uri, qr_svg } = answer.body;
      assert.match(secret, /^[A-Z2-7]{32}$/);
      assert.equal(base32Decode(secret).length, 20);
      const uri = new URL(otpauth_uri);
      assert.equal(uri.protocol, 'otpauth:');
      assert.equal(uri.host, 'totp');
      assert.equal(decodeURIComponent(uri.pathname), `/Portcullis:${who.username}`);
      assert.equal(uri.searchParams.get('secret'), secret);
      assert.equal(uri.searchParams.get('issuer'), 'Portcullis');
      assert.equal(uri.searchParams.get('algorithm'), 'SHA1');
      assert.equal(uri.searchParams.get('digits'), '6');
      assert.equal(uri.searchParams.get('period'), '30');
      assert.match(qr_svg, /^<svg[\s>][\s\S]*<\/svg>\s*$/);

      const status = await api.get('/users/me/totp', bearer(who.tokens));
      assert.deepEqual(status.body, { enabled: false, pending: true, recovery_codes_left: 0 });
      // Pending is not on: the password alone still signs in.
      assert.ok((await login(api, who.username, who.password)).access_token);
      // The secret is stored encrypted, bound to the user, and never shown in the user.
      const row = await server.app.services.store.totp.find(who.id);
      assert.ok(row);
      assert.ok(row.secretSealed.startsWith('v1.'));
      assert.ok(!row.secretSealed.includes(secret));
      const me = await api.get('/users/me', bearer(who.tokens));
      assert.ok(!me.text.includes(secret));
      assert.deepEqual(Object.keys(me.body).sort(), [
        'created_at',
        'email',
        'id',
        'is_active',
        'is_superuser',
        'is_verified',
        'scopes',
        'username',
      ]);

      // Starting again replaces the pending secret: the first one no longer confirms.
      const again = await api.post<{ secret: string }>(
        '/users/me/totp',
        undefined,
        bearer(who.tokens),
      );
      assert.notEqual(again.body.secret, secret);
      const stale = await api.post(
        '/users/me/totp/confirm',
        { code: code(secret) },
        bearer(who.tokens),
      );
      assert.equal(stale.status, 400);
      assert.equal(stale.body.code, 'invalid_otp');
    });

    it('confirmation: a wrong code is refused; the right one gives 10 recovery codes and ends other sessions', async () => {
      const who = await registerAndLogin(api, 'confirm');
      const other = await login(api, who.username, who.password);
      const noPending = await api.post(
        '/users/me/totp/confirm',
        { code: '123456' },
        bearer(who.tokens),
      );
      assert.equal(noPending.status, 409);
      assert.equal(noPending.body.code, 'totp_not_pending');
      const { body } = await api.post<{ secret: string }>(
        '/users/me/totp',
        undefined,
        bearer(who.tokens),
      );
      for (const wrong of [code(body.secret, 2), '000000', 'abc', '']) {
        const answer = await api.post(
          '/users/me/totp/confirm',
          { code: wrong },
          bearer(who.tokens),
        );
        assert.equal(answer.status, 400, wrong);
        assert.equal(answer.body.code, 'invalid_otp');
      }
      const current = code(body.secret);
      const confirmed = await api.post<{ recovery_codes: string[] }>(
        '/users/me/totp/confirm',
        { code: current },
        bearer(who.tokens),
      );
      assert.equal(confirmed.status, 200);
      assert.equal(confirmed.headers.get('cache-control'), 'no-store');
      const codes = confirmed.body.recovery_codes;
      assert.equal(codes.length, 10);
      assert.equal(new Set(codes).size, 10);
      for (const c of codes) assert.match(c, /^[a-z2-7]{4}(-[a-z2-7]{4}){5}$/);
      // Stored as SHA-256 hashes (120 random bits need no key): no code, in any form, is in the table.
      const database = await openDatabase(server.databaseUrl);
      try {
        const rows = await database.kysely
          .selectFrom('recovery_codes')
          .select('code_hash')
          .where('user_id', '=', who.id)
          .execute();
        assert.equal(rows.length, 10);
        const stored = JSON.stringify(rows);
        for (const c of codes) {
          assert.ok(!stored.includes(c) && !stored.includes(c.replaceAll('-', '')));
        }
        const expected = codes.map(
          (c) => `sha256:${createHash('sha256').update(c.replaceAll('-', '')).digest('base64url')}`,
        );
        assert.deepEqual(rows.map((row) => row.code_hash).sort(), expected.sort());
      } finally {
        await database.close();
      }

      assert.equal(
        (await api.get('/users/me', bearer(who.tokens))).status,
        200,
        'this session stays',
      );
      assert.equal((await api.get('/users/me', bearer(other))).status, 401, 'others end');
      const status = await api.get('/users/me/totp', bearer(who.tokens));
      assert.deepEqual(status.body, { enabled: true, pending: false, recovery_codes_left: 10 });
      const twice = await api.post('/users/me/totp/confirm', { code: current }, bearer(who.tokens));
      assert.equal(twice.status, 409);
      const restart = await api.post('/users/me/totp', undefined, bearer(who.tokens));
      assert.equal(restart.status, 409);
      assert.equal(restart.body.code, 'totp_already_enabled');
      // The confirming code was spent: it cannot be replayed at the next login.
      assert.equal((await otpGrant(await mfaToken(who), current)).status, 400);
    });

    it('the password grant answers mfa_required with an mfa_token only; the code completes the login', async () => {
      const who = await enrolled();
      const answer = await passwordGrant(who);
      assert.equal(answer.status, 400);
      assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(answer.headers.get('cache-control'), 'no-store');
      assert.deepEqual(Object.keys(answer.body).sort(), [
        'error',
        'error_description',
        'mfa_token',
      ]);
      assert.match(String(answer.body.mfa_token), /^[A-Za-z0-9_-]{43}$/);

      const done = await otpGrant(answer.body.mfa_token, code(who.secret));
      assert.equal(done.status, 200, done.text);
      assert.equal(done.headers.get('cache-control'), 'no-store');
      const tokens = done.body as unknown as TokenPair;
      assert.equal(tokens.token_type, 'bearer');
      assert.equal(tokens.scope, 'read write');
      assert.equal((await api.get('/users/me', bearer(tokens))).body.username, who.username);
      const refreshed = await api.post('/token', {
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
      });
      assert.equal(refreshed.status, 200);
      // JSON works as well as a form, and a narrower scope asked at the password step is kept.
      nextStep();
      const narrow = await api.post('/token', {
        grant_type: 'password',
        username: who.email,
        password: who.password,
        scope: 'read',
      });
      const viaJson = await api.post('/token', {
        grant_type: GRANT,
        mfa_token: narrow.body.mfa_token,
        otp: code(who.secret),
      });
      assert.equal(viaJson.status, 200);
      assert.equal(viaJson.body.scope, 'read');
    });

    it('a code is accepted once; adjacent steps are accepted, older or further ones are not', async () => {
      const who = await enrolled('replay');
      const now = code(who.secret);
      assert.equal((await otpGrant(await mfaToken(who), now)).status, 200);
      // Replay of the same code, even through a fresh mfa_token.
      const replay = await otpGrant(await mfaToken(who), now);
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error, 'invalid_grant');
      // The step before is older than the one used: refused.
      assert.equal((await otpGrant(await mfaToken(who), code(who.secret, -1))).status, 400);
      // The next step (a clock running ahead) is accepted, once.
      const ahead = code(who.secret, 1);
      assert.equal((await otpGrant(await mfaToken(who), ahead)).status, 200);
      assert.equal((await otpGrant(await mfaToken(who), ahead)).status, 400);
      // Later: one step behind is accepted (a clock running late); two steps either way are not.
      server.clock.advance(10 * STEP);
      assert.equal((await otpGrant(await mfaToken(who), code(who.secret, -2))).status, 400);
      assert.equal((await otpGrant(await mfaToken(who), code(who.secret, 2))).status, 400);
      assert.equal((await otpGrant(await mfaToken(who), code(who.secret, -1))).status, 200);
    });

    it('two logins racing with the same code: exactly one succeeds', async () => {
      const who = await enrolled('race');
      const [a, b] = [await mfaToken(who), await mfaToken(who)];
      const current = code(who.secret);
      const answers = await Promise.all([otpGrant(a, current), otpGrant(b, current)]);
      const outcomes = answers.map((x) => `${x.status} ${String(x.body.error ?? '')}`).sort();
      // The loser waits for the winner's check, then is refused as a replay (never a false 429).
      assert.deepEqual(outcomes, ['200 ', '400 invalid_grant']);
    });

    it('an mfa_token is single use, lives 5 minutes, survives 5 wrong codes, and is no bearer token', async () => {
      const who = await enrolled('token');
      const used = await mfaToken(who);
      assert.equal((await otpGrant(used, code(who.secret))).status, 200);
      nextStep();
      assert.equal((await otpGrant(used, code(who.secret))).body.error, 'invalid_grant');

      const old = await mfaToken(who);
      server.clock.advance(5 * 60_000 + 1000);
      assert.equal((await otpGrant(old, code(who.secret))).body.error, 'invalid_grant');

      const tried = await mfaToken(who);
      for (let i = 0; i < 5; i++) {
        const wrong = await otpGrant(
          tried,
          String((Number(code(who.secret)) + 1 + i) % 1_000_000).padStart(6, '0'),
        );
        assert.equal(wrong.body.error, 'invalid_grant');
      }
      const spent = await otpGrant(tried, code(who.secret));
      assert.equal(spent.status, 400, 'after 5 wrong codes the token is dead');
      assert.match(String(spent.body.error_description), /sign in again/);

      const fresh = await mfaToken(who);
      assert.equal((await api.get('/users/me', { token: fresh })).status, 401);
      const garbage = ['x', 'A'.repeat(43), who.tokens.refresh_token, who.tokens.access_token];
      for (const token of garbage) {
        const answer = await otpGrant(token, code(who.secret));
        assert.equal(answer.status, 400, token.slice(0, 20));
        assert.equal(answer.body.error, 'invalid_grant');
      }
      assert.equal((await otpGrant(fresh, '')).body.error, 'invalid_request');
      // A NUL is refused before anything else looks at the request.
      assert.equal((await otpGrant('\u0000', code(who.secret))).body.error, 'invalid_request');
      assert.equal((await otpGrant('', code(who.secret))).body.error, 'invalid_request');
      // The OTP grant never stands in for the password step.
      assert.equal((await otpGrant(undefined, code(who.secret))).status, 400);
      // The fresh token still works after all that.
      assert.equal((await otpGrant(fresh, code(who.secret))).status, 200);
    });

    it('recovery codes work once each, in any case, with or without dashes', async () => {
      const who = await enrolled('recover');
      const [first = '', second = ''] = who.recovery;
      assert.equal((await otpGrant(await mfaToken(who), first)).status, 200);
      assert.equal((await otpGrant(await mfaToken(who), first)).body.error, 'invalid_grant');
      const typed = ` ${second.replaceAll('-', '').toUpperCase()} `;
      assert.equal((await otpGrant(await mfaToken(who), typed)).status, 200);
      const status = await api.get('/users/me/totp', bearer(who.tokens));
      assert.equal(status.body.recovery_codes_left, 8);
      // Someone else's code is no code for this account.
      const stranger = await enrolled('stranger');
      assert.equal(
        (await otpGrant(await mfaToken(who), stranger.recovery[0])).body.error,
        'invalid_grant',
      );
    });

    it('disabling needs the password or a current code; then the password alone signs in', async () => {
      const who = await enrolled('disable');
      const session = await otpGrant(await mfaToken(who), code(who.secret));
      const tokens = session.body as unknown as TokenPair;
      const other = who.tokens;
      nextStep();
      const off = (body: unknown) => api.del('/users/me/totp', body, bearer(tokens));
      const wrongPassword = await off({ password: 'not my password at all' });
      assert.equal(wrongPassword.status, 400);
      assert.equal(wrongPassword.body.code, 'invalid_password');
      const wrongCode = await off({ code: code(who.secret, 5) });
      assert.equal(wrongCode.status, 400);
      assert.equal(wrongCode.body.code, 'invalid_otp');
      assert.equal((await off({})).status, 422);
      assert.equal((await off({ password: 42 })).status, 422);
      assert.equal((await api.get('/users/me/totp', bearer(tokens))).body.enabled, true);

      assert.equal((await off({ code: code(who.secret) })).status, 204);
      assert.equal((await api.get('/users/me', bearer(tokens))).status, 200, 'this session stays');
      assert.equal((await api.get('/users/me', bearer(other))).status, 401, 'others end');
      assert.deepEqual((await api.get('/users/me/totp', bearer(tokens))).body, {
        enabled: false,
        pending: false,
        recovery_codes_left: 0,
      });
      assert.ok((await login(api, who.username, who.password)).access_token);
      const again = await off({ password: who.password });
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'totp_not_enabled');

      // On again, and off with the password this time; a recovery code also counts as a code.
      const { body } = await api.post<{ secret: string }>(
        '/users/me/totp',
        undefined,
        bearer(tokens),
      );
      const confirmed = await api.post<{ recovery_codes: string[] }>(
        '/users/me/totp/confirm',
        { code: code(body.secret) },
        bearer(tokens),
      );
      assert.equal(confirmed.status, 200);
      assert.equal((await off({ code: confirmed.body.recovery_codes[3] })).status, 204);
      assert.equal((await login(api, who.username, who.password)).token_type, 'bearer');
    });

    it('the metadata lists the mfa-otp grant', async () => {
      const meta = await api.get('/.well-known/oauth-authorization-server');
      assert.ok((meta.body.grant_types_supported as string[]).includes(GRANT));
    });

    it('the one-step login for the cookie pages takes the code with the password', async () => {
      const who = await enrolled('onestep');
      const s = server.app.services;
      const client = { clientId: 'portcullis', userAgent: null, ip: null };
      const input = { username: who.username, password: who.password };
      await assert.rejects(loginWithSecondFactor(s, input, client), (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.code, 'mfa_required');
        assert.match(String(error.extra.mfa_token), /^[A-Za-z0-9_-]{43}$/);
        return true;
      });
      await assert.rejects(
        loginWithSecondFactor(s, { ...input, otp: code(who.secret, 3) }, client),
        (error: unknown) => error instanceof AppError && error.code === 'invalid_otp',
      );
      await assert.rejects(
        loginWithSecondFactor(s, { ...input, password: 'wrong password here' }, client),
        (error: unknown) => error instanceof AppError && error.code === 'invalid_grant',
      );
      const result = await loginWithSecondFactor(s, { ...input, otp: code(who.secret) }, client);
      assert.equal(result.user.id, who.id);
      assert.equal((await api.get('/users/me', bearer(result.tokens))).status, 200);
    });

    it('deleting the account removes its second factor with it', async () => {
      const who = await enrolled('gone');
      const deleted = await api.del('/users/me', { password: who.password }, bearer(who.tokens));
      assert.equal(deleted.status, 204);
      assert.equal(await server.app.services.store.totp.find(who.id), undefined);
      assert.equal(await server.app.services.store.recoveryCodes.countUnused(who.id), 0);
    });
  });
}
