// Black-box: email verification through the outbox, on each database; REQUIRE_VERIFIED_EMAIL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Client, client, login, newIdentity, registerAndLogin } from '../support/http.ts';
import { linkToken, outboxMail, readOutbox } from '../support/mail.ts';
import { testDatabases } from '../support/postgres.ts';
import { cli } from '../support/process.ts';
import { startServer, type TestServer, testEnv } from '../support/server.ts';

type Problem = { status: number; code: string; detail: string };
const HOUR = 3_600_000;

for (const db of testDatabases()) {
  describe(`email verification on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    before(async () => {
      server = await startServer({ db });
      api = client(server.url);
    });
    after(() => server.close());

    const ask = (token: string) => api.post<Problem>('/verify/request', undefined, { token });
    const verify = (token: unknown) => api.post<Problem>('/verify', { token });
    async function verificationToken(email: string, n = 1): Promise<string> {
      const mail = await outboxMail(server.dataDir, email, n, /Confirm your email/);
      return linkToken(mail, server.config.publicUrl, 'verify');
    }
    const me = async (token: string) =>
      (await api.get('/users/me', { token })).body as { is_verified: boolean; email: string };

    it('mails a link that verifies the address, once', async () => {
      const who = await registerAndLogin(api, 'verify');
      assert.equal((await me(who.tokens.access_token)).is_verified, false);
      const asked = await ask(who.tokens.access_token);
      assert.equal(asked.status, 202);
      const mail = await outboxMail(server.dataDir, who.email);
      assert.equal(mail.headers.get('to'), who.email);
      const token = linkToken(mail, server.config.publicUrl, 'verify');
      assert.equal((await verify(token)).status, 204);
      assert.equal((await me(who.tokens.access_token)).is_verified, true);
      const again = await verify(token);
      assert.equal(again.status, 400);
      assert.equal(again.body.code, 'invalid_or_expired_token');
      // Verified already: nothing more to send.
      const more = await ask(who.tokens.access_token);
      assert.equal(more.status, 409);
      assert.equal(more.body.code, 'already_verified');
    });

    it('needs a bearer token to ask for a link', async () => {
      assert.equal((await api.post('/verify/request')).status, 401);
    });

    it('a link expires after 24 hours', async () => {
      const early = await registerAndLogin(api, 'early');
      const late = await registerAndLogin(api, 'late');
      await ask(early.tokens.access_token);
      await ask(late.tokens.access_token);
      const [earlyToken, lateToken] = [
        await verificationToken(early.email),
        await verificationToken(late.email),
      ];
      server.clock.advance(24 * HOUR - 1000);
      assert.equal((await verify(earlyToken)).status, 204);
      server.clock.advance(2000);
      assert.equal((await verify(lateToken)).status, 400);
    });

    it('a second request within a minute is 429 with Retry-After; a later one voids the first link', async () => {
      const who = await registerAndLogin(api, 'often');
      assert.equal((await ask(who.tokens.access_token)).status, 202);
      const first = await verificationToken(who.email);
      const soon = await ask(who.tokens.access_token);
      assert.equal(soon.status, 429);
      assert.equal(soon.body.code, 'too_many_requests');
      const retry = Number(soon.headers.get('retry-after'));
      assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
      server.clock.advance(61_000);
      assert.equal((await ask(who.tokens.access_token)).status, 202);
      const second = await verificationToken(who.email, 2);
      assert.equal((await verify(first)).status, 400);
      assert.equal((await verify(second)).status, 204);
    });

    it('a new email address is unverified again, and links sent to the old one stop working', async () => {
      const who = await registerAndLogin(api, 'mover');
      await ask(who.tokens.access_token);
      const forOld = await verificationToken(who.email);
      server.clock.advance(61_000);
      await ask(who.tokens.access_token);
      assert.equal((await verify(await verificationToken(who.email, 2))).status, 204);
      assert.equal((await me(who.tokens.access_token)).is_verified, true);

      // Another case is another stored text, which a mail system may deliver elsewhere: unverified
      // again, and so is the way back (verified-address.test.ts has the look-alike cases).
      const recased = await api.patch(
        '/users/me',
        { email: who.email.toUpperCase() },
        { token: who.tokens.access_token },
      );
      assert.equal(recased.status, 200);
      assert.equal(recased.body.is_verified, false);
      const restored = await api.patch(
        '/users/me',
        { email: who.email },
        { token: who.tokens.access_token },
      );
      assert.equal(restored.status, 200);
      assert.equal(restored.body.is_verified, false);
      server.clock.advance(61_000);
      await ask(who.tokens.access_token);
      assert.equal((await verify(await verificationToken(who.email, 3))).status, 204);
      assert.equal((await me(who.tokens.access_token)).is_verified, true);

      const moved = await api.patch(
        '/users/me',
        { email: `new-${who.email}` },
        { token: who.tokens.access_token },
      );
      assert.equal(moved.status, 200);
      assert.equal(moved.body.is_verified, false);
      // A link mailed to the old address proves nothing about the new one.
      server.clock.advance(61_000);
      await ask(who.tokens.access_token);
      const pending = await verificationToken(`new-${who.email}`);
      const back = await api.patch(
        '/users/me',
        { email: `other-${who.email}` },
        {
          token: who.tokens.access_token,
        },
      );
      assert.equal(back.status, 200);
      assert.equal((await verify(pending)).status, 400);
      assert.equal((await verify(forOld)).status, 400);
      assert.equal((await me(who.tokens.access_token)).is_verified, false);
    });

    it('garbage and cross-purpose tokens are refused with 4xx, never 5xx', async () => {
      const who = await registerAndLogin(api, 'crossed');
      assert.equal((await api.post('/password/forgot', { email: who.email })).status, 202);
      const resetToken = linkToken(
        await outboxMail(server.dataDir, who.email, 1, /Reset/),
        server.config.publicUrl,
        'reset',
      );
      for (const token of [
        '',
        'x',
        'B'.repeat(43),
        resetToken,
        who.tokens.refresh_token,
        '%'.repeat(43),
      ]) {
        const answer = await verify(token);
        assert.equal(answer.status, 400, token);
        assert.equal(answer.body.code, 'invalid_or_expired_token');
      }
      for (const token of [null, 7, [], 'a'.repeat(513)]) {
        assert.equal((await verify(token)).status, 422);
      }
      assert.equal((await api.post('/verify', {})).status, 422);
      assert.equal((await me(who.tokens.access_token)).is_verified, false);
      // The reset link was not spent by being tried as a verification token.
      const reset = await api.post('/password/reset', {
        token: resetToken,
        new_password: 'a fresh and long passphrase',
      });
      assert.equal(reset.status, 204);
    });
  });

  describe(`REQUIRE_VERIFIED_EMAIL=true on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    before(async () => {
      server = await startServer({ db, env: { REQUIRE_VERIFIED_EMAIL: 'true' } });
      api = client(server.url);
    });
    after(() => server.close());

    const password = (username: string, pass: string) =>
      api.post('/token', { grant_type: 'password', username, password: pass }, { form: true });

    it('an unverified user gets 400 email_not_verified and a link; once verified, tokens', async () => {
      const who = newIdentity('strict');
      assert.equal((await api.post('/register', who)).status, 201);
      // Registration sends the first link unasked.
      const first = await outboxMail(server.dataDir, who.email, 1, /Confirm/);

      const refused = await password(who.username, who.password);
      assert.equal(refused.status, 400);
      assert.match(refused.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(refused.body.error, 'email_not_verified');
      assert.match(String(refused.body.error_description), /confirm your email/i);
      assert.equal(refused.body.access_token, undefined);

      // The wrong password still gets the generic answer: the state is told only to the owner.
      const wrong = await password(who.username, 'not the password at all');
      assert.equal(wrong.body.error, 'invalid_grant');

      // A refused login a minute later sends a fresh link (the first is then void).
      server.clock.advance(61_000);
      assert.equal((await password(who.username, who.password)).body.error, 'email_not_verified');
      const second = await outboxMail(server.dataDir, who.email, 2, /Confirm/);
      const stale = linkToken(first, server.config.publicUrl, 'verify');
      assert.equal((await api.post('/verify', { token: stale })).status, 400);
      const token = linkToken(second, server.config.publicUrl, 'verify');
      assert.equal((await api.post('/verify', { token })).status, 204);
      const tokens = await login(api, who.username, who.password);
      assert.ok(tokens.access_token);
    });

    it('users made with the CLI are verified (the operator typed the address)', async () => {
      const who = newIdentity('operator');
      const made = await cli(
        ['user', 'create', '--email', who.email, '--username', who.username, '--superuser'],
        testEnv(server.dataDir, server.databaseUrl, { REQUIRE_VERIFIED_EMAIL: 'true' }),
        `${who.password}\n`,
      );
      assert.equal(made.code, 0, made.stderr);
      const tokens = await login(api, who.username, who.password);
      assert.ok(tokens.access_token);
      await server.app.services.mailer.idle();
      const mails = await readOutbox(server.dataDir);
      assert.equal(mails.filter((m) => m.headers.get('to') === who.email).length, 0);
    });
  });
}
