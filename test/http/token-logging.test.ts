// Black-box regression tests of issue 10 item 9: the mailed reset and verification links carried
// `?token=`, so the browser sent the token to the server when the page was opened and the request
// log printed it (the URL, at info). The token now travels in the link's fragment (`#token=`),
// which a browser never sends, the page reads it from there; and token-like query parameters are
// redacted from the request log anyway (an old link, a client that puts a secret in a URL).
// On SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Client, client, registerAndLogin } from '../support/http.ts';
import { type Mail, outboxMail } from '../support/mail.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

const PUBLIC_URL = 'https://auth.example.com/portal';

type LogLine = { msg?: string; req?: { url?: string } };

/** The one link to `path` in the mail's text body; the HTML body must carry the same. */
function mailedLink(mail: Mail, path: string): URL {
  const lines = mail.text.split(/\r?\n/).filter((l) => l.startsWith(`${PUBLIC_URL}/${path}`));
  assert.equal(lines.length, 1, mail.text);
  const link = new URL((lines[0] as string).trim());
  assert.ok(mail.html.includes(link.href.replaceAll('&', '&amp;')), 'the HTML body has the link');
  return link;
}

/** The token of a link, wherever it is. */
function tokenOf(link: URL): string {
  const token =
    new URLSearchParams(link.hash.slice(1)).get('token') ?? link.searchParams.get('token');
  assert.match(token ?? '', /^[A-Za-z0-9_-]{43}$/, `a token in ${link.href}`);
  return token as string;
}

/** The token must travel in the fragment, and the link have no query at all. */
function assertInFragment(link: URL, token: string): void {
  assert.equal(link.search, '', `no query in ${link.href}`);
  assert.equal(link.hash, `#token=${token}`);
}

/** What a browser sends for a link: the path and query under the server, never the fragment. */
function opened(server: TestServer, link: URL): string {
  const path = link.pathname.slice(new URL(PUBLIC_URL).pathname.length);
  return `${server.url}${path}${link.search}`;
}

for (const db of testDatabases()) {
  describe(`reset and verification tokens in the server log on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    const logs: string[] = [];
    const parsed = (): LogLine[] => logs.map((l) => JSON.parse(l) as LogLine);
    before(async () => {
      server = await startServer({
        db,
        env: { PUBLIC_URL },
        logger: { level: 'info', stream: { write: (line: string) => logs.push(line) } },
      });
      api = client(server.url);
    });
    after(() => server.close());

    it('the mailed reset link put its token in the query, which the request log printed: fragment, never logged', async () => {
      const who = await registerAndLogin(api, 'logreset');
      assert.equal((await api.post('/password/forgot', { email: who.email })).status, 202);
      const link = mailedLink(await outboxMail(server.dataDir, who.email, 1, /Reset/), 'reset');
      const token = tokenOf(link);
      // The browser opens the link (fetch, like a browser, never sends the fragment) …
      const page = await fetch(opened(server, link));
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<form[^>]*data-form="reset"/);
      // … and the page posts the token it read from the fragment.
      const reset = await api.post('/password/reset', {
        token,
        new_password: `a new password for ${who.username}`,
      });
      assert.equal(reset.status, 204, reset.text);
      await server.app.services.mailer.idle();
      assert.deepEqual(
        logs.filter((l) => l.includes(token)),
        [],
        'the token is never logged',
      );
      assert.ok(
        parsed().some((l) => l.msg === 'incoming request' && l.req?.url === '/reset'),
        'the page request is logged',
      );
      assertInFragment(link, token);
    });

    it('the mailed verification link put its token in the query, which the request log printed: fragment, never logged', async () => {
      const who = await registerAndLogin(api, 'logverify');
      const auth = { token: who.tokens.access_token };
      assert.equal((await api.post('/verify/request', undefined, auth)).status, 202);
      const mail = await outboxMail(server.dataDir, who.email, 1, /Confirm your email/);
      const link = mailedLink(mail, 'verify');
      const token = tokenOf(link);
      const page = await fetch(opened(server, link));
      assert.equal(page.status, 200);
      assert.equal((await api.post('/verify', { token })).status, 204);
      const me = await api.get<{ is_verified: boolean }>('/users/me', auth);
      assert.equal(me.body.is_verified, true);
      await server.app.services.mailer.idle();
      assert.deepEqual(
        logs.filter((l) => l.includes(token)),
        [],
        'the token is never logged',
      );
      assert.ok(parsed().some((l) => l.msg === 'incoming request' && l.req?.url === '/verify'));
      assertInFragment(link, token);
    });

    it('token-like query parameters were logged as sent: redacted in the request log', async () => {
      const secrets = {
        token: 'secret-token-value-1',
        code: 'secret-code-value-2',
        refresh_token: 'secret-refresh-value-3',
        access_token: 'secret-access-value-4',
        password: 'secret-password-value-5',
        client_secret: 'secret-client-value-6',
        Token: 'secret-cased-value-7',
      };
      const query = new URLSearchParams({ ...secrets, page: '2' }).toString();
      // An old-style link, an OAuth-style callback, and a request that matches no route.
      for (const path of ['/reset', '/verify', '/healthz', '/no/such/route']) {
        const answer = await fetch(`${server.url}${path}?${query}`);
        assert.ok([200, 404].includes(answer.status), `${path}: ${answer.status}`);
      }
      const answer = await fetch(`${server.url}/reset?token=secret`);
      assert.equal(answer.status, 200);
      // A name spelt with escapes is the same name; a malformed escape elsewhere changes nothing.
      const odd = await fetch(`${server.url}/healthz?%74oken=secret-escaped-8&bad=%zz&flag`);
      assert.equal(odd.status, 200);
      const urls = parsed()
        .filter((l) => l.msg === 'incoming request')
        .map((l) => l.req?.url ?? '');
      assert.ok(urls.includes('/reset?token=[REDACTED]'), urls.join('\n'));
      assert.ok(urls.includes('/healthz?%74oken=[REDACTED]&bad=%zz&flag'), urls.join('\n'));
      const redacted = Object.keys(secrets)
        .map((k) => `${k}=[REDACTED]`)
        .concat('page=2')
        .join('&');
      for (const path of ['/reset', '/verify', '/healthz', '/no/such/route']) {
        assert.ok(urls.includes(`${path}?${redacted}`), `${path} in:\n${urls.join('\n')}`);
      }
      for (const value of [...Object.values(secrets), 'token=secret', 'secret-escaped-8']) {
        assert.deepEqual(
          logs.filter((l) => l.includes(value)),
          [],
          `${value} is never logged`,
        );
      }
    });
  });
}
