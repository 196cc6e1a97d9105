// Black-box: password reset through the mail (SPEC §4), on each database: the outbox and a real SMTP
// server as the transport, the link read from the message, reuse, expiry and garbage refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { superuser, wait } from '../support/fixtures.ts';
import { type Client, client, login, registerAndLogin } from '../support/http.ts';
import {
  linkToken,
  outboxMail,
  readOutbox,
  type SmtpSink,
  startSmtpSink,
} from '../support/mail.ts';
import { createTempPgDatabase, testDatabases } from '../support/postgres.ts';
import { type ServerProcess, serveProcess } from '../support/process.ts';
import { startServer, type TestServer, testEnv } from '../support/server.ts';

type Problem = { status: number; code: string; detail: string; reasons?: string[] };

/** The normal approximation of the Mann-Whitney U statistic of two samples (ties count half). */
function mannWhitneyZ(a: number[], b: number[]): number {
  let u = 0;
  for (const x of a) for (const y of b) u += x > y ? 1 : x === y ? 0.5 : 0;
  const [n, m] = [a.length, b.length];
  return (u - (n * m) / 2) / Math.sqrt((n * m * (n + m + 1)) / 12);
}
const NEW_PASSWORD = 'a completely different passphrase';
const MINUTE = 60_000;

for (const db of testDatabases()) {
  describe(`password reset on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    before(async () => {
      server = await startServer({ db });
      api = client(server.url);
    });
    after(() => server.close());

    const idle = () => server.app.services.mailer.idle();
    const forgot = (email: string, headers?: Record<string, string>) =>
      api.post('/password/forgot', { email }, headers ? { headers } : {});
    const reset = (token: unknown, newPassword = NEW_PASSWORD) =>
      api.post<Problem>('/password/reset', { token, new_password: newPassword });
    async function resetToken(email: string, n = 1): Promise<string> {
      const mail = await outboxMail(server.dataDir, email, n, /Reset your password/);
      return linkToken(mail, server.config.publicUrl, 'reset');
    }

    it('answers 202 with the same body and headers whether or not the account exists', async () => {
      const who = await registerAndLogin(api, 'known');
      const known = await forgot(who.email);
      const unknown = await forgot('nobody-at-all@example.com');
      assert.equal(known.status, 202);
      assert.equal(unknown.status, 202);
      assert.equal(known.text, unknown.text);
      // The rate-limit counters move with every request from this address, known or not.
      const headers = (h: Headers) =>
        [...h.entries()].filter(
          ([k]) => !['date', 'x-request-id', 'ratelimit-remaining'].includes(k),
        );
      assert.deepEqual(headers(known.headers), headers(unknown.headers));
      await idle();
      const mails = await readOutbox(server.dataDir);
      assert.equal(mails.filter((m) => m.headers.get('to') === who.email).length, 1);
      assert.equal(mails.filter((m) => /nobody-at-all/.test(m.raw)).length, 0);
    });

    it('refuses a malformed or missing address with 422, never 5xx', async () => {
      for (const body of [{ email: 'not an email' }, { email: '' }, {}, { email: 42 }]) {
        const answer = await api.post<Problem>('/password/forgot', body);
        assert.equal(answer.status, 422, JSON.stringify(body));
      }
      assert.equal((await api.post('/password/forgot', { email: 'x'.repeat(2000) })).status, 422);
    });

    it('the mailed link sets a new password once; the old password and every session die', async () => {
      const who = await registerAndLogin(api, 'resetme');
      const second = await login(api, who.username, who.password);
      assert.equal((await forgot(who.email)).status, 202);
      const token = linkToken(
        await outboxMail(server.dataDir, who.email),
        server.config.publicUrl,
        'reset',
      );
      assert.ok(token.length >= 22, 'at least 128 bits');
      assert.equal((await reset(token)).status, 204);

      // Every session ended: access tokens refused at once, refresh tokens dead.
      for (const tokens of [who.tokens, second]) {
        assert.equal((await api.get('/users/me', { token: tokens.access_token })).status, 401);
        const refreshed = await api.post('/token', {
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token,
        });
        assert.equal(refreshed.status, 400);
        assert.equal(refreshed.body.error, 'invalid_grant');
      }
      // No automatic login: the new password works, the old one does not.
      const fresh = await login(api, who.username, NEW_PASSWORD);
      const old = await api.post('/token', { username: who.username, password: who.password });
      assert.equal(old.status, 400);
      // The link reached the address: the address counts as verified.
      const me = await api.get('/users/me', { token: fresh.access_token });
      assert.equal(me.body.is_verified, true);
      // Single use.
      const again = await reset(token, 'yet another long passphrase');
      assert.equal(again.status, 400);
      assert.equal(again.body.code, 'invalid_or_expired_token');
      // A notice goes to the address.
      const notice = await outboxMail(server.dataDir, who.email, 1, /password was changed/);
      assert.ok(!notice.text.includes(token));
    });

    it('mails only the stored address, whatever case or Unicode form was typed', async () => {
      const who = await registerAndLogin(api, 'MixedCase');
      const typed = who.email.toUpperCase().replace('EXAMPLE', 'ｅｘａｍｐｌｅ');
      assert.equal((await forgot(typed)).status, 202);
      const mail = await outboxMail(server.dataDir, who.email);
      assert.equal(mail.headers.get('to'), who.email);
      await idle();
      assert.equal(
        (await readOutbox(server.dataDir)).filter((m) => m.raw.includes(typed)).length,
        0,
      );
    });

    it('a link expires after 30 minutes', async () => {
      const early = await registerAndLogin(api, 'early');
      const late = await registerAndLogin(api, 'late');
      await forgot(early.email);
      await forgot(late.email);
      const [earlyToken, lateToken] = [await resetToken(early.email), await resetToken(late.email)];
      server.clock.advance(30 * MINUTE - 1000);
      assert.equal((await reset(earlyToken)).status, 204);
      server.clock.advance(2000);
      const expired = await reset(lateToken);
      assert.equal(expired.status, 400);
      assert.equal(expired.body.code, 'invalid_or_expired_token');
    });

    it('a newer request voids the older link; within a minute no second mail is sent', async () => {
      const who = await registerAndLogin(api, 'twice');
      await forgot(who.email);
      const first = await resetToken(who.email);
      await forgot(who.email);
      await idle();
      const sent = (await readOutbox(server.dataDir)).filter(
        (m) => m.headers.get('to') === who.email,
      );
      assert.equal(sent.length, 1, 'the cooldown holds back a second mail');
      server.clock.advance(MINUTE + 1000);
      await forgot(who.email);
      const second = await resetToken(who.email, 2);
      assert.notEqual(first, second);
      assert.equal((await reset(first)).status, 400);
      assert.equal((await reset(second)).status, 204);
    });

    it('a weak new password is 422 weak_password and leaves the link usable', async () => {
      const who = await registerAndLogin(api, 'weak');
      await forgot(who.email);
      const token = await resetToken(who.email);
      const weak = await reset(token, 'password');
      assert.equal(weak.status, 422);
      assert.equal(weak.body.code, 'weak_password');
      const same = await reset(token, who.username);
      assert.equal(same.status, 422);
      assert.equal((await reset(token)).status, 204);
    });

    it('a password changed by other means voids the link', async () => {
      const who = await registerAndLogin(api, 'changed');
      await forgot(who.email);
      const token = await resetToken(who.email);
      const changed = await api.post(
        '/users/me/password',
        { current_password: who.password, new_password: 'changed by the owner meanwhile' },
        { token: who.tokens.access_token },
      );
      assert.equal(changed.status, 204);
      assert.equal((await reset(token)).status, 400);
    });

    it('a changed email address voids the link sent to the old one', async () => {
      const who = await registerAndLogin(api, 'moved');
      await forgot(who.email);
      const token = await resetToken(who.email);
      const moved = await api.patch(
        '/users/me',
        { email: `moved-${who.email}` },
        { token: who.tokens.access_token },
      );
      assert.equal(moved.status, 200);
      assert.equal((await reset(token)).status, 400);
    });

    it('garbage, foreign and cross-purpose tokens are refused with 4xx, never 5xx', async () => {
      const who = await registerAndLogin(api, 'garbage');
      const verify = await api.post('/verify/request', undefined, {
        token: who.tokens.access_token,
      });
      assert.equal(verify.status, 202);
      const verificationToken = linkToken(
        await outboxMail(server.dataDir, who.email, 1, /Confirm/),
        server.config.publicUrl,
        'verify',
      );
      const garbage: unknown[] = [
        '',
        'x',
        'A'.repeat(43),
        'A'.repeat(44),
        '!'.repeat(43),
        `${verificationToken}`,
        who.tokens.refresh_token,
        'é'.repeat(43),
        'a'.repeat(512),
      ];
      for (const token of garbage) {
        const answer = await reset(token);
        assert.equal(answer.status, 400, JSON.stringify(token).slice(0, 60));
        assert.equal(answer.body.code, 'invalid_or_expired_token');
      }
      for (const token of [null, 42, ['x'], { a: 1 }, 'a'.repeat(513), '\u0000'.repeat(43)]) {
        assert.equal((await reset(token)).status, 422, JSON.stringify(token).slice(0, 60));
      }
      assert.equal((await api.post('/password/reset', { token: 'x' })).status, 422);
      // An access token is longer than any reset token: refused by the length limit or the lookup.
      const jwt = await reset(who.tokens.access_token);
      assert.ok([400, 422].includes(jwt.status), `access token as reset token: ${jwt.status}`);
      // The verification link still works for what it is for.
      assert.equal((await api.post('/verify', { token: verificationToken })).status, 204);
    });

    it('a disabled account gets no mail', async () => {
      const admin = await superuser(server, api);
      const who = await registerAndLogin(api, 'disabled');
      const off = await api.patch(
        `/admin/users/${who.id}`,
        { is_active: false },
        { token: admin.tokens.access_token },
      );
      assert.equal(off.status, 200);
      assert.equal((await forgot(who.email)).status, 202);
      await idle();
      assert.equal(
        (await readOutbox(server.dataDir)).filter((m) => m.headers.get('to') === who.email).length,
        0,
      );
    });

    it('Host and X-Forwarded-Host headers do not change the link (built from PUBLIC_URL)', async () => {
      const who = await registerAndLogin(api, 'hosty');
      await forgot(who.email, { host: 'evil.example', 'x-forwarded-host': 'evil.example' });
      const mail = await outboxMail(server.dataDir, who.email);
      assert.ok(!mail.raw.includes('evil.example'));
      assert.ok(mail.text.includes(`${server.config.publicUrl}/reset#token=`));
    });
  });

  describe(`password reset through SMTP on ${db}`, () => {
    let sink: SmtpSink;
    let server: TestServer;
    let api: Client;
    const logs: string[] = [];
    before(async () => {
      sink = await startSmtpSink();
      server = await startServer({
        db,
        env: { SMTP_URL: sink.url, PUBLIC_URL: 'https://auth.example.com/portal' },
        logger: { level: 'info', stream: { write: (line: string) => logs.push(line) } },
      });
      api = client(server.url);
    });
    after(async () => {
      await server.close();
      await sink.close();
    });

    it('the mail reaches a real SMTP server and its link completes the reset', async () => {
      const who = await registerAndLogin(api, 'smtp');
      assert.equal((await api.post('/password/forgot', { email: who.email })).status, 202);
      const mail = await sink.waitFor(who.email);
      assert.deepEqual(mail.rcpt, [who.email]);
      assert.equal(mail.from, 'no-reply@auth.example.com');
      const token = linkToken(mail, 'https://auth.example.com/portal', 'reset');
      assert.equal(
        (await api.post('/password/reset', { token, new_password: NEW_PASSWORD })).status,
        204,
      );
      await login(api, who.username, NEW_PASSWORD);
      await server.app.services.mailer.idle();
      assert.ok(
        logs.some((l) => l.includes('"msg":"mail sent"')),
        'the send is logged',
      );
      assert.ok(!logs.some((l) => l.includes(token)), 'the token is never logged');
    });

    it('a temporary SMTP failure is retried; the answer never depends on it', async () => {
      const who = await registerAndLogin(api, 'retry');
      sink.refuseNext(1, 421);
      const answer = await api.post('/password/forgot', { email: who.email });
      assert.equal(answer.status, 202);
      const mail = await sink.waitFor(who.email);
      assert.ok(linkToken(mail, 'https://auth.example.com/portal', 'reset'));
      assert.ok(logs.some((l) => l.includes('mail not sent; will retry')));
    });
  });

  describe(`password reset with an unreachable SMTP server on ${db}`, () => {
    it('still answers 202 with the same body', async () => {
      const server = await startServer({ db, env: { SMTP_URL: 'smtp://127.0.0.1:1' } });
      try {
        const api = client(server.url);
        const who = await registerAndLogin(api, 'down');
        const known = await api.post('/password/forgot', { email: who.email });
        const unknown = await api.post('/password/forgot', { email: 'ghost@example.com' });
        assert.equal(known.status, 202);
        assert.equal(known.text, unknown.text);
      } finally {
        await server.close();
      }
    });
  });

  describe(`password reset timing on ${db}`, () => {
    // The server runs in its own process, as in production: in-process, the test's HTTP client would
    // share the event loop with the work the server does after answering, and time that too.
    let proc: ServerProcess;
    let api: Client;
    let cleanup: () => Promise<void>;
    before(async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-timing-'));
      const pg = db === 'postgres' ? await createTempPgDatabase() : undefined;
      const databaseUrl = pg?.url ?? `sqlite:${join(dataDir, 'portcullis.db')}`;
      proc = await serveProcess({ ...testEnv(dataDir, databaseUrl), LOG_LEVEL: 'info' });
      api = client(proc.url);
      cleanup = async () => {
        await proc.stop();
        await pg?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      };
    });
    after(() => cleanup());

    it('answers in the same time whether or not the account exists (the work comes after)', async () => {
      const known: string[] = [];
      for (let i = 0; i < 40; i++) known.push((await registerAndLogin(api, 'timing')).email);
      const times = { known: [] as number[], unknown: [] as number[] };
      const timed = async (kind: 'known' | 'unknown', email: string) => {
        const start = performance.now();
        const answer = await api.post('/password/forgot', { email });
        times[kind].push(performance.now() - start);
        assert.equal(answer.status, 202);
        // Let the background work of this request finish before the next one is timed.
        await wait(30);
      };
      for (const [i, email] of known.entries()) {
        // Alternate which goes first, so warm-up and drift hit both alike.
        if (i % 2) await timed('known', email);
        await timed('unknown', `ghost${i}@example.com`);
        if (!(i % 2)) await timed('known', email);
      }
      const median = (xs: number[]) =>
        [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
      const [k, u] = [median(times.known), median(times.unknown)];
      // A real difference is both large and systematic: the medians differ by more than the
      // tolerance AND a Mann-Whitney test says so (|z| > 3.29, p < 0.001). Noise from a loaded
      // machine moves single samples by tens of milliseconds, but not the whole ranking.
      const z = mannWhitneyZ(times.known, times.unknown);
      const large = Math.abs(k - u) > Math.max(1.5, 0.3 * Math.min(k, u));
      assert.ok(
        !(large && Math.abs(z) > 3.29),
        `${db}: medians ${k.toFixed(2)} ms (known) vs ${u.toFixed(2)} ms (unknown), z = ${z.toFixed(2)}`,
      );
    });
  });
}
