// Sign in with GitHub (SPEC §9). GitHub cannot be reached from these machines, so this runs against
// a LOCAL STAND-IN of the four GitHub endpoints the code calls — authorize, access_token, GET /user
// and GET /user/emails — whose answers are copied from GitHub's documentation:
//   https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
//   https://docs.github.com/en/rest/users/users#get-the-authenticated-user
//   https://docs.github.com/en/rest/users/emails#list-email-addresses-for-the-authenticated-user
//   https://docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors
// The stand-in also checks what GitHub checks: the client's secret, the redirect URI and PKCE.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ACCESS } from '../support/cookies.ts';
import { client } from '../support/http.ts';
import { freePort } from '../support/oidc-provider.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

const CLIENT_ID = 'Iv1.8a61f9b3a7aba766';
const CLIENT_SECRET = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';

interface GithubAccount {
  user: Record<string, unknown>;
  emails: Array<Record<string, unknown>>;
}

// GET /user as documented ("Response with public and private profile information"), trimmed.
const OCTOCAT_USER = {
  login: 'octocat',
  id: 1,
  node_id: 'MDQ6VXNlcjE=',
  avatar_url: 'https://github.com/images/error/octocat_happy.gif',
  gravatar_id: '',
  url: 'https://api.github.com/users/octocat',
  html_url: 'https://github.com/octocat',
  type: 'User',
  site_admin: false,
  name: 'monalisa octocat',
  company: 'GitHub',
  blog: 'https://github.com/blog',
  location: 'San Francisco',
  email: 'octocat@github.com',
  hireable: false,
  bio: 'There once was...',
  twitter_username: 'monatheoctocat',
  public_repos: 2,
  public_gists: 1,
  followers: 20,
  following: 0,
  created_at: '2008-01-14T04:33:35Z',
  updated_at: '2008-01-14T04:33:35Z',
};
// GET /user/emails as documented.
const OCTOCAT_EMAILS = [
  { email: 'octocat@github.com', verified: true, primary: true, visibility: 'public' },
];

interface StandIn {
  url: string;
  accounts: Map<string, GithubAccount>;
  /** The account the next authorize request signs in as (GitHub's own login is not modelled). */
  next: string;
  /** Make GET /user/emails fail (a GitHub outage of that API). */
  emailsDown: boolean;
  close(): Promise<void>;
}

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function startGithubStandIn(redirectUri: string): Promise<StandIn> {
  const port = await freePort();
  const codes = new Map<string, { account: string; challenge: string; redirectUri: string }>();
  const tokens = new Map<string, string>();
  const standIn: Omit<StandIn, 'close'> = {
    url: `http://127.0.0.1:${port}`,
    accounts: new Map(),
    next: 'octocat',
    emailsDown: false,
  };
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', standIn.url);
    const json = (status: number, value: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      response.end(JSON.stringify(value));
    };
    if (url.pathname === '/login/oauth/authorize') {
      // GitHub sends the user back with code and state once they authorize the app.
      const q = url.searchParams;
      assert.equal(q.get('client_id'), CLIENT_ID);
      assert.equal(q.get('redirect_uri'), redirectUri);
      assert.equal(q.get('code_challenge_method'), 'S256');
      const code = randomBytes(10).toString('hex');
      codes.set(code, {
        account: standIn.next,
        challenge: q.get('code_challenge') ?? '',
        redirectUri: q.get('redirect_uri') ?? '',
      });
      const back = new URL(redirectUri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      response.writeHead(302, { location: back.href });
      response.end();
      return;
    }
    if (url.pathname === '/login/oauth/access_token' && request.method === 'POST') {
      const form = new URLSearchParams(await body(request));
      const pending = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const s256 = createHash('sha256').update(verifier).digest('base64url');
      const ok =
        pending !== undefined &&
        form.get('client_id') === CLIENT_ID &&
        form.get('client_secret') === CLIENT_SECRET &&
        form.get('redirect_uri') === pending.redirectUri &&
        s256 === pending.challenge;
      if (!ok) {
        // GitHub answers a bad code with 200 and an error body (documented as such).
        json(200, {
          error: 'bad_verification_code',
          error_description: 'The code passed is incorrect or expired.',
          error_uri:
            'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code',
        });
        return;
      }
      const token = `gho_${randomBytes(18).toString('hex')}`;
      tokens.set(token, pending.account);
      // With Accept: application/json, as documented.
      json(200, { access_token: token, scope: 'read:user,user:email', token_type: 'bearer' });
      return;
    }
    const auth = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
    const account = standIn.accounts.get(tokens.get(auth) ?? '');
    if (!account) {
      json(401, {
        message: 'Requires authentication',
        documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user',
      });
      return;
    }
    if (url.pathname === '/user') return json(200, account.user);
    if (url.pathname === '/user/emails')
      return standIn.emailsDown
        ? json(503, { message: 'Service unavailable' })
        : json(200, account.emails);
    json(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return Object.assign(standIn, {
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}

/** Our start, the stand-in's authorize, our callback: what a browser's redirects would do. */
async function signIn(base: string): Promise<{ status: number; location: string; html: string }> {
  const start = await fetch(`${base}/auth/github/start`, { redirect: 'manual' });
  assert.equal(start.status, 302);
  const cookie = start.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
  const authorize = await fetch(start.headers.get('location') ?? '', { redirect: 'manual' });
  const callback = await fetch(authorize.headers.get('location') ?? '', {
    redirect: 'manual',
    headers: { cookie },
  });
  const session = callback.headers.getSetCookie().find((l) => l.startsWith(`${ACCESS}=`));
  return {
    status: callback.status,
    location: callback.headers.get('location') ?? '',
    html: `${await callback.text()}${session ? '\nSESSION-COOKIE-SET' : ''}`,
  };
}

for (const db of testDatabases()) {
  describe(`sign-in with GitHub (local stand-in of its endpoints), on ${db}`, () => {
    let server: TestServer;
    let github: StandIn;
    let base: string;

    before(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      github = await startGithubStandIn(`${base}/auth/github/callback`);
      server = await startServer({
        db,
        port,
        env: {
          PUBLIC_URL: base,
          IDENTITY_PROVIDERS: 'github',
          IDP_GITHUB_CLIENT_ID: CLIENT_ID,
          IDP_GITHUB_CLIENT_SECRET: CLIENT_SECRET,
          // For GitHub Enterprise Server; here the stand-in.
          IDP_GITHUB_URL: github.url,
          IDP_GITHUB_API_URL: github.url,
        },
      });
    });
    after(async () => {
      await server?.close();
      await github?.close();
    });

    it('makes an account from a primary, verified address, and signs the same one in again', async () => {
      github.accounts.set('octocat', { user: OCTOCAT_USER, emails: OCTOCAT_EMAILS });
      github.next = 'octocat';
      const first = await signIn(base);
      assert.equal(first.status, 302, first.html);
      assert.equal(first.location, '/');
      assert.match(first.html, /SESSION-COOKIE-SET/);
      const user = await server.app.services.store.users.findByEmailNorm('octocat@github.com');
      assert.equal(user?.username, 'octocat');
      assert.equal(user?.isVerified, true);
      assert.equal(user?.hasPassword, false);
      const identity = await server.app.services.store.identities.find('github', '1');
      assert.equal(identity?.userId, user?.id);

      const again = await signIn(base);
      assert.equal(again.status, 302);
      assert.equal(await server.app.services.store.users.count(), 1);
      const list = await client(base).get<unknown[]>('/auth/providers');
      assert.deepEqual(list.body, [
        {
          name: 'github',
          label: 'Sign in with GitHub',
          display_name: 'GitHub',
          available: true,
          start_url: '/auth/github/start',
        },
      ]);
    });

    it('takes only the primary address, and calls it verified only when GitHub does', async () => {
      github.accounts.set('hubot', {
        user: { ...OCTOCAT_USER, login: 'hubot', id: 2, email: null },
        emails: [
          // A verified address that is not the primary one is not the account's address.
          { email: 'hubot.other@example.com', verified: true, primary: false, visibility: null },
          { email: 'hubot@example.com', verified: false, primary: true, visibility: 'private' },
        ],
      });
      github.next = 'hubot';
      const result = await signIn(base);
      assert.equal(result.status, 302, result.html);
      const user = await server.app.services.store.users.findByEmailNorm('hubot@example.com');
      assert.equal(user?.username, 'hubot');
      assert.equal(user?.isVerified, false);
      assert.equal(
        await server.app.services.store.users.findByEmailNorm('hubot.other@example.com'),
        undefined,
      );
    });

    it('gives a clear page, not a 5xx, when GitHub refuses the code or its API fails', async () => {
      github.accounts.set('mona', {
        user: { ...OCTOCAT_USER, login: 'mona', id: 3 },
        emails: [{ email: 'mona@example.com', verified: true, primary: true, visibility: null }],
      });
      github.next = 'mona';
      github.emailsDown = true;
      try {
        const down = await signIn(base);
        assert.equal(down.status, 400);
        assert.match(down.html, /data-idp-problem="invalid_response"/);
        assert.doesNotMatch(down.html, /SESSION-COOKIE-SET/);
      } finally {
        github.emailsDown = false;
      }
      // A code GitHub does not know (its 200 answer with bad_verification_code).
      const start = await fetch(`${base}/auth/github/start`, { redirect: 'manual' });
      const cookie = start.headers
        .getSetCookie()
        .map((l) => l.split(';')[0])
        .join('; ');
      const state = new URL(start.headers.get('location') ?? '').searchParams.get('state') ?? '';
      const bad = await fetch(
        `${base}/auth/github/callback?code=not-a-code&state=${encodeURIComponent(state)}`,
        { redirect: 'manual', headers: { cookie } },
      );
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /data-idp-problem="invalid_response"/);
      // The user pressed Cancel at GitHub: it sends error=access_denied back.
      const again = await fetch(`${base}/auth/github/start`, { redirect: 'manual' });
      const cookie2 = again.headers
        .getSetCookie()
        .map((l) => l.split(';')[0])
        .join('; ');
      const state2 = new URL(again.headers.get('location') ?? '').searchParams.get('state') ?? '';
      const denied = await fetch(
        `${base}/auth/github/callback?error=access_denied&error_description=The+user+has+denied+your+application+access.&state=${encodeURIComponent(state2)}`,
        { redirect: 'manual', headers: { cookie: cookie2 } },
      );
      assert.equal(denied.status, 400);
      const html = await denied.text();
      assert.match(html, /data-idp-problem="provider_error"/);
      assert.match(html, /access_denied/);
    });
  });
}
