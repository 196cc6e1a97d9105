// Black-box regression tests of issue 10 item 10: in HS256 mode a change of SECRET_KEY turned
// two-factor sign-in into a 500 (the TOTP secrets are sealed, and recovery codes were hashed, with
// keys derived from it) and ended every live token at once. Now PREVIOUS_SECRET_KEYS keeps old
// tokens (access, refresh, mfa_token, mailed links, cookie session and CSRF token) and sealed TOTP
// secrets usable (re-sealed with the new key on use, or all at once by `portcullis keys reseal`);
// without the old secret the second factor answers 400 second_factor_unavailable (a recovery code,
// stored as a keyless SHA-256, still works) and `portcullis user reset-2fa` is the way back. With
// ES256 the same change made the server refuse to start (its signing keys are sealed the same way).
//
// One database per suite, three servers on it in turn: SECRET_KEY=A; then B with
// PREVIOUS_SECRET_KEYS=A; then B alone. The servers share one frozen clock, advanced a step between
// TOTP codes (each step is accepted once).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deriveKey, hmacSha256 } from '../../src/crypto/random.ts';
import { openDatabase } from '../../src/store/database.ts';
import { createStore } from '../../src/store/index.ts';
import { type BrowserSession, cookieLogin, withCookies } from '../support/cookies.ts';
import {
  type Answer,
  type Client,
  client,
  newIdentity,
  registerAndLogin,
} from '../support/http.ts';
import { linkToken, outboxMail } from '../support/mail.ts';
import { testDatabases } from '../support/postgres.ts';
import { cli } from '../support/process.ts';
import { startServer, type TestServer, testClock, testEnv } from '../support/server.ts';
import { base32Decode, totp } from '../support/totp.ts';

const GRANT = 'urn:portcullis:grant-type:mfa-otp';
const SECRET_A = 'first secret of the rotation test (32+ bytes)';
const SECRET_B = 'second secret of the rotation test (32+ bytes)';

type Enrolled = Awaited<ReturnType<typeof registerAndLogin>> & {
  secret: string;
  recoveryCodes: string[];
};

const outcome = (answer: Answer): string =>
  `${answer.status} ${String(answer.body?.error ?? answer.body?.code ?? '')}`;

/** How versions before the fix stored a recovery code: HMAC keyed from SECRET_KEY. */
function legacyRecoveryHash(secretKey: string, code: string): string {
  const key = deriveKey(Buffer.from(secretKey, 'utf8'), 'recovery-code-hash');
  return hmacSha256(key, code.replaceAll('-', ''));
}

for (const db of testDatabases()) {
  describe(`SECRET_KEY rotation in HS256 mode on ${db}`, () => {
    const clock = testClock();
    let first: TestServer;
    let rotated: Enrolled;
    let stranded: Enrolled;
    let forgetful: Awaited<ReturnType<typeof registerAndLogin>>;
    /** An mfa_token and a password-reset link handed out under SECRET_KEY A, used after the change. */
    let pendingMfa: string;
    let resetLink: string;
    /** A cookie session (access cookie and CSRF token) of a browser signed in under SECRET_KEY A. */
    let browser: BrowserSession;

    const start = (env: Record<string, string>) =>
      startServer({
        db,
        clock,
        env: { ALGORITHM: 'HS256', ...env },
        reuse: { dataDir: first.dataDir, databaseUrl: first.databaseUrl },
      });

    async function enrol(api: Client, prefix: string): Promise<Enrolled> {
      const who = await registerAndLogin(api, prefix);
      const auth = { token: who.tokens.access_token };
      const started = await api.post<{ secret: string }>('/users/me/totp', undefined, auth);
      assert.equal(started.status, 200, started.text);
      const code = totp(base32Decode(started.body.secret), clock());
      const confirmed = await api.post<{ recovery_codes: string[] }>(
        '/users/me/totp/confirm',
        { code },
        auth,
      );
      assert.equal(confirmed.status, 200, confirmed.text);
      return { ...who, secret: started.body.secret, recoveryCodes: confirmed.body.recovery_codes };
    }

    const passwordGrant = (api: Client, who: Enrolled) =>
      api.post(
        '/token',
        { grant_type: 'password', username: who.username, password: who.password },
        { form: true },
      );

    /** The password step (which must ask for the second factor), then `otp`. */
    async function mfaSignIn(api: Client, who: Enrolled, otp: string): Promise<Answer> {
      const step = await passwordGrant(api, who);
      assert.equal(outcome(step), '400 mfa_required', step.text);
      return api.post(
        '/token',
        { grant_type: GRANT, mfa_token: String(step.body.mfa_token), otp },
        { form: true },
      );
    }

    /** A fresh TOTP code of the next time step (the last one was spent). */
    function nextCode(who: Enrolled): string {
      clock.advance(30_000);
      return totp(base32Decode(who.secret), clock());
    }

    before(async () => {
      first = await startServer({ db, clock, env: { ALGORITHM: 'HS256', SECRET_KEY: SECRET_A } });
      const api = client(first.url);
      rotated = await enrol(api, 'rotated');
      stranded = await enrol(api, 'stranded');
      const step = await passwordGrant(api, rotated);
      assert.equal(outcome(step), '400 mfa_required', step.text);
      pendingMfa = String(step.body.mfa_token);
      forgetful = await registerAndLogin(api, 'forgetful');
      assert.equal((await api.post('/password/forgot', { email: forgetful.email })).status, 202);
      await first.app.services.mailer.idle();
      const mail = await outboxMail(first.dataDir, forgetful.email, 1, /Reset your password/);
      resetLink = linkToken(mail, first.config.publicUrl, 'reset');
      const surfer = await registerAndLogin(api, 'browser');
      browser = await cookieLogin(api, surfer.username, surfer.password);
      await first.app.close();
      // The rotated user's codes as an earlier version stored them (keyed from SECRET_KEY A), to show
      // that such rows keep working during a rotation.
      const store = createStore(await openDatabase(first.databaseUrl));
      try {
        await store.recoveryCodes.replace(
          rotated.id,
          rotated.recoveryCodes.map((code) => legacyRecoveryHash(SECRET_A, code)),
          clock(),
        );
      } finally {
        await store.close();
      }
    });
    after(() => first.close());

    it('a new SECRET_KEY with the old one in PREVIOUS_SECRET_KEYS answered 500 to TOTP and refused the live tokens: all keep working', async () => {
      const server = await start({ SECRET_KEY: SECRET_B, PREVIOUS_SECRET_KEYS: SECRET_A });
      try {
        const api = client(server.url);
        const me = await api.get('/users/me', { token: rotated.tokens.access_token });
        assert.equal(me.status, 200, `old access token: ${me.text}`);
        const refreshed = await api.post(
          '/token',
          { grant_type: 'refresh_token', refresh_token: rotated.tokens.refresh_token },
          { form: true },
        );
        assert.equal(refreshed.status, 200, `old refresh token: ${refreshed.text}`);

        const pending = await api.post(
          '/token',
          { grant_type: GRANT, mfa_token: pendingMfa, otp: nextCode(rotated) },
          { form: true },
        );
        assert.equal(pending.status, 200, `mfa_token of before the change: ${pending.text}`);
        const changed = await api.patch(
          '/users/me',
          { email: newIdentity('moved').email },
          withCookies(browser.jar, browser.csrf),
        );
        assert.equal(changed.status, 200, `cookie session and CSRF token: ${changed.text}`);
        const reset = await api.post('/password/reset', {
          token: resetLink,
          new_password: 'a new passphrase after the change',
        });
        assert.equal(reset.status, 204, `reset link of before the change: ${reset.text}`);

        const withTotp = await mfaSignIn(api, rotated, nextCode(rotated));
        assert.equal(withTotp.status, 200, `TOTP: ${withTotp.text}`);
        const fresh = String(withTotp.body.access_token);
        assert.equal((await api.get('/users/me', { token: fresh })).status, 200);

        const recovery = await mfaSignIn(api, rotated, String(rotated.recoveryCodes[0]));
        assert.equal(recovery.status, 200, `recovery code of the old format: ${recovery.text}`);
        const again = await mfaSignIn(api, rotated, String(rotated.recoveryCodes[0]));
        assert.equal(outcome(again), '400 invalid_grant', 'a recovery code works once');
      } finally {
        await server.app.close();
      }
    });

    it('a TOTP secret opened with a previous key is re-sealed: after PREVIOUS_SECRET_KEYS is dropped it still works', async () => {
      const server = await start({ SECRET_KEY: SECRET_B });
      try {
        const api = client(server.url);
        const withTotp = await mfaSignIn(api, rotated, nextCode(rotated));
        assert.equal(withTotp.status, 200, `TOTP: ${withTotp.text}`);
      } finally {
        await server.app.close();
      }
    });

    it('a new SECRET_KEY without the old one answered 500 to TOTP: 400 second_factor_unavailable, old tokens 401, reset-2fa brings the account back', async () => {
      const server = await start({ SECRET_KEY: SECRET_B });
      try {
        const api = client(server.url);
        const me = await api.get('/users/me', { token: stranded.tokens.access_token });
        assert.equal(outcome(me), '401 invalid_token', me.text);

        const withTotp = await mfaSignIn(api, stranded, nextCode(stranded));
        assert.equal(outcome(withTotp), '400 second_factor_unavailable', withTotp.text);
        assert.match(String(withTotp.body.error_description), /administrator/);
        // Nothing of the secret or of the failure's cause is in the answer.
        assert.doesNotMatch(withTotp.text, /decrypt|SECRET_KEY|sealed/i);
        // The cookie login says the same (problem details).
        const cookieLogin = await api.post('/login', {
          username: stranded.username,
          password: stranded.password,
          otp: nextCode(stranded),
        });
        assert.equal(outcome(cookieLogin), '400 second_factor_unavailable', cookieLogin.text);

        // Recovery codes are plain SHA-256 of 120 random bits, keyed by nothing: they still work.
        const recovery = await mfaSignIn(api, stranded, String(stranded.recoveryCodes[0]));
        assert.equal(recovery.status, 200, `recovery code: ${recovery.text}`);

        const env = testEnv(server.dataDir, server.databaseUrl, {
          ALGORITHM: 'HS256',
          SECRET_KEY: SECRET_B,
        });
        // keys reseal names the accounts whose secret no configured key opens.
        const resealed = await cli(['keys', 'reseal'], env);
        assert.equal(resealed.code, 0, resealed.stderr);
        assert.match(
          resealed.stdout,
          /0 re-sealed with SECRET_KEY, 1 already sealed with it, 1 unreadable/,
        );
        assert.match(resealed.stdout, new RegExp(`unreadable: ${stranded.username} `));
        assert.doesNotMatch(resealed.stdout, new RegExp(rotated.username));

        const reset = await cli(['user', 'reset-2fa', stranded.username], env);
        assert.equal(reset.code, 0, reset.stderr);
        assert.match(reset.stdout, new RegExp(`second factor of ${stranded.username} removed`));
        const [entry, ...more] = await server.app.services.store.audit.list({
          limit: 10,
          types: ['admin.totp_reset'],
          subjectId: stranded.id,
        });
        assert.equal(more.length, 0);
        assert.equal(entry?.actorId, null, 'the operator');
        // Every recovery code row goes, the one spent above too (its details name no secret).
        assert.deepEqual(JSON.parse(entry?.details ?? '{}'), { codes_removed: 10 });
        const unknown = await cli(['user', 'reset-2fa', 'nobody-of-that-name'], env);
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /no user named nobody-of-that-name/);

        const plain = await passwordGrant(api, stranded);
        assert.equal(plain.status, 200, `password sign-in after reset-2fa: ${plain.text}`);
        const status = await api.get('/users/me/totp', {
          token: String(plain.body.access_token),
        });
        assert.equal(status.status, 200, status.text);
        assert.deepEqual(status.body, { enabled: false, pending: false, recovery_codes_left: 0 });
      } finally {
        await server.app.close();
      }
    });
  });
}

for (const db of testDatabases()) {
  describe(`portcullis keys reseal after a SECRET_KEY change on ${db}`, () => {
    it('TOTP secrets of users who did not sign in during the rotation were lost with the old secret: keys reseal re-seals them all', async () => {
      const clock = testClock();
      const first = await startServer({
        db,
        clock,
        env: { ALGORITHM: 'HS256', SECRET_KEY: SECRET_A },
      });
      try {
        const api = client(first.url);
        const sleepers: Array<{ username: string; password: string; secret: string }> = [];
        for (let i = 0; i < 2; i++) {
          const who = await registerAndLogin(api, 'sleeper');
          const auth = { token: who.tokens.access_token };
          const started = await api.post<{ secret: string }>('/users/me/totp', undefined, auth);
          const code = totp(base32Decode(started.body.secret), clock());
          const confirmed = await api.post('/users/me/totp/confirm', { code }, auth);
          assert.equal(confirmed.status, 200, confirmed.text);
          sleepers.push({ ...who, secret: started.body.secret });
        }
        await first.app.close();

        const rotating = testEnv(first.dataDir, first.databaseUrl, {
          ALGORITHM: 'HS256',
          SECRET_KEY: SECRET_B,
          PREVIOUS_SECRET_KEYS: SECRET_A,
        });
        const once = await cli(['keys', 'reseal'], rotating);
        assert.equal(once.code, 0, once.stderr);
        assert.match(
          once.stdout,
          /2 re-sealed with SECRET_KEY, 0 already sealed with it, 0 unreadable/,
        );
        assert.match(once.stdout, /No TOTP secret needs PREVIOUS_SECRET_KEYS any more/);
        const twice = await cli(['keys', 'reseal'], rotating);
        assert.match(
          twice.stdout,
          /0 re-sealed with SECRET_KEY, 2 already sealed with it, 0 unreadable/,
        );

        // Nobody signed in meanwhile; the old secret is dropped, and their TOTP still works.
        const later = await startServer({
          db,
          clock,
          env: { ALGORITHM: 'HS256', SECRET_KEY: SECRET_B },
          reuse: { dataDir: first.dataDir, databaseUrl: first.databaseUrl },
        });
        try {
          const laterApi = client(later.url);
          clock.advance(30_000);
          for (const who of sleepers) {
            const step = await laterApi.post(
              '/token',
              { grant_type: 'password', username: who.username, password: who.password },
              { form: true },
            );
            assert.equal(outcome(step), '400 mfa_required', step.text);
            const signedIn = await laterApi.post(
              '/token',
              {
                grant_type: GRANT,
                mfa_token: String(step.body.mfa_token),
                otp: totp(base32Decode(who.secret), clock()),
              },
              { form: true },
            );
            assert.equal(signedIn.status, 200, signedIn.text);
          }
        } finally {
          await later.app.close();
        }
      } finally {
        await first.close();
      }
    });
  });
}

for (const db of testDatabases()) {
  describe(`SECRET_KEY rotation with ES256 on ${db}`, () => {
    it('a changed SECRET_KEY left the sealed signing keys unreadable and the server would not start: with PREVIOUS_SECRET_KEYS it starts and old tokens verify', async () => {
      const first = await startServer({ db, env: { ALGORITHM: 'ES256', SECRET_KEY: SECRET_A } });
      try {
        const who = await registerAndLogin(client(first.url), 'es256');
        await first.app.close();
        const reuse = { dataDir: first.dataDir, databaseUrl: first.databaseUrl };
        await assert.rejects(
          startServer({ db, reuse, env: { ALGORITHM: 'ES256', SECRET_KEY: SECRET_B } }),
          /cannot be decrypted with SECRET_KEY or PREVIOUS_SECRET_KEYS/,
        );
        const rotated = await startServer({
          db,
          reuse,
          env: { ALGORITHM: 'ES256', SECRET_KEY: SECRET_B, PREVIOUS_SECRET_KEYS: SECRET_A },
        });
        try {
          const api = client(rotated.url);
          const me = await api.get('/users/me', { token: who.tokens.access_token });
          assert.equal(me.status, 200, me.text);
        } finally {
          await rotated.app.close();
        }
      } finally {
        await first.close();
      }
    });
  });
}
