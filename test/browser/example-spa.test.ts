// End to end in Chromium: the example single-page app of examples/spa, as the README runs it. A real
// Portcullis (`portcullis serve`, the client registered with `portcullis client create`) and the
// example's own static server (`node examples/spa/server.ts`) on another port; the browser signs
// in through Portcullis's pages, consents, and comes back to the app, which reads /userinfo and
// /users/me, refreshes and signs out, all under the app's strict Content-Security-Policy.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, screenshot } from '../support/browser.ts';
import { client, newIdentity } from '../support/http.ts';
import { type CliWorld, cli, cliWorld, ROOT } from '../support/process.ts';

// This project's types describe Node, not the DOM: the little the test reads in the page is typed here.
interface PageGlobals {
  sessionStorage: { length: number };
  localStorage: { length: number };
  document: {
    addEventListener(type: string, listener: (event: PageViolation) => void): void;
  };
  console: { error(message: string): void };
}
interface PageViolation {
  violatedDirective: string;
  blockedURI: string;
}

/** A port nobody listens on now (the registered redirect URI must name the app's port in advance). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

interface AppProcess {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `node examples/spa/server.ts` as the README runs it, waiting for its "listening" line. */
function startExample(env: Record<string, string>): Promise<AppProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'examples', 'spa', 'server.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const onData = (d: Buffer) => {
      output += d;
      if (/listening at http/i.test(output))
        resolve({
          child,
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`example exited (${code}):\n${output}`)));
  });
}

describe('the example SPA (examples/spa) in Chromium', () => {
  let world: CliWorld;
  let app: AppProcess;
  let browser: Browser;
  let portcullis: string;
  let spa: string;
  let clientId: string;
  const who = newIdentity('spa');

  before(async () => {
    const [portcullisPort, spaPort] = [await freePort(), await freePort()];
    // As the README starts them: each on its own localhost port, Portcullis allowing the app's origin.
    portcullis = `http://localhost:${portcullisPort}`;
    spa = `http://localhost:${spaPort}`;
    world = await cliWorld('sqlite', 'portcullis-spa-', {
      PORT: String(portcullisPort),
      ISSUER: portcullis,
      CORS_ORIGINS: spa,
    });
    const registered = await client(world.server.url).post('/register', who);
    assert.equal(registered.status, 201, registered.text);
    const made = await cli(
      [
        'client',
        'create',
        '--name',
        'Example SPA',
        '--redirect-uri',
        `${spa}/`,
        '--post-logout-redirect-uri',
        `${spa}/`,
        '--scope',
        'openid profile email offline_access read write',
      ],
      world.env,
    );
    assert.equal(made.code, 0, made.stderr);
    const registeredClient = JSON.parse(made.stdout) as {
      client_id: string;
      token_endpoint_auth_method: string;
      client_secret?: string;
    };
    assert.equal(registeredClient.token_endpoint_auth_method, 'none', 'a public client');
    assert.equal(registeredClient.client_secret, undefined);
    clientId = registeredClient.client_id;
    app = await startExample({
      CLIENT_ID: clientId,
      PORTCULLIS_URL: portcullis,
      PORT: String(spaPort),
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
    await world?.close();
  });

  /** A browser profile that records every request, CSP violation and uncaught page error. */
  async function profile(): Promise<{
    context: BrowserContext;
    requests: string[];
    problems: string[];
  }> {
    const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'UTC' });
    context.setDefaultTimeout(15_000);
    const requests: string[] = [];
    const problems: string[] = [];
    context.on('request', (request) => requests.push(request.url()));
    // Every violation of a policy, wherever in the document, reported to the console (below).
    await context.addInitScript(() => {
      const g = globalThis as unknown as PageGlobals;
      g.document.addEventListener('securitypolicyviolation', (event) =>
        g.console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`),
      );
    });
    context.on('page', (page) => {
      page.on('console', (message) => {
        // Not every console error: a page probing for a session logs its expected 401.
        if (/CSP violation|Content Security Policy/i.test(message.text()))
          problems.push(`${page.url()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    });
    return { context, requests, problems };
  }

  const storageUsed = (page: Page): Promise<number> =>
    page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      return g.sessionStorage.length + g.localStorage.length;
    });

  it('signs in with the code flow and PKCE, shows the user, refreshes and signs out', async () => {
    const { context, requests, problems } = await profile();
    try {
      const page = await context.newPage();
      const first = await page.goto(`${spa}/`);
      assert.equal(first?.status(), 200);
      // The app's own policy, exactly: nothing but its files, fetches to Portcullis alone.
      assert.equal(
        first?.headers()['content-security-policy'],
        [
          "default-src 'none'",
          "script-src 'self'",
          "style-src 'self'",
          `connect-src ${portcullis}`,
          "img-src 'self'",
          "base-uri 'none'",
          "form-action 'none'",
          "frame-ancestors 'none'",
        ].join('; '),
      );
      await page.getByRole('heading', { name: 'You are signed out' }).waitFor();

      // Sign in: off to Portcullis's /authorize, which sends a browser without a session to /login.
      await page.getByRole('button', { name: 'Sign in with Portcullis' }).click();
      await page.waitForURL((url) => url.origin === portcullis && url.pathname === '/login');
      const authorize = new URL(new URL(page.url()).searchParams.get('next') ?? '', portcullis)
        .searchParams;
      assert.equal(authorize.get('client_id'), clientId);
      assert.equal(authorize.get('response_type'), 'code');
      assert.equal(authorize.get('code_challenge_method'), 'S256');
      assert.match(authorize.get('code_challenge') ?? '', /^[\w-]{43}$/);
      assert.ok(authorize.get('state'), 'state sent');
      assert.ok(authorize.get('nonce'), 'nonce sent');
      assert.equal(authorize.get('redirect_uri'), `${spa}/`);
      await page.getByLabel('Username or email').fill(who.username);
      await page.getByLabel('Password', { exact: true }).fill(who.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();

      // Consent: the page names the app; Allow sends the code back to the app.
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      assert.match((await page.locator('body').textContent()) ?? '', /Example SPA/);
      await screenshot(page, 'example-spa-consent');
      const exchanged = page.waitForResponse(
        (r) => r.url() === `${portcullis}/token` && r.request().method() === 'POST',
      );
      await page.getByRole('button', { name: 'Allow' }).click();
      const exchange = await exchanged;
      assert.equal(exchange.status(), 200);
      const sent = new URLSearchParams(exchange.request().postData() ?? '');
      assert.equal(sent.get('grant_type'), 'authorization_code');
      assert.equal(sent.get('client_id'), clientId);
      assert.match(sent.get('code_verifier') ?? '', /^[\w-]{43,128}$/);
      const issued = (await exchange.json()) as Record<string, string>;
      assert.ok(issued.refresh_token, 'offline_access gave a refresh token');
      assert.ok(issued.id_token, 'openid gave an ID token');

      // Back in the app: the user from /userinfo and from /users/me.
      await page.getByRole('heading', { name: `Signed in as ${who.username}` }).waitFor();
      assert.equal(page.url(), `${spa}/`, 'the code was removed from the address bar');
      const userinfo = (await page.locator('[data-userinfo]').textContent()) ?? '';
      assert.match(userinfo, /sub/);
      assert.match(userinfo, new RegExp(who.email));
      const me = (await page.locator('[data-me]').textContent()) ?? '';
      assert.match(me, new RegExp(who.username));
      assert.match(me, new RegExp(who.email));
      assert.equal(await storageUsed(page), 0, 'no token (and no leftover) in web storage');
      await screenshot(page, 'example-spa-signed-in');

      // Refresh: the refresh grant, rotated; the app reads /users/me again with the new token.
      const refreshed = page.waitForResponse(
        (r) => r.url() === `${portcullis}/token` && r.request().method() === 'POST',
      );
      const meAgain = page.waitForResponse(
        (r) => r.url() === `${portcullis}/users/me` && r.request().method() === 'GET',
      );
      await page.getByRole('button', { name: 'Refresh tokens' }).click();
      const refresh = await refreshed;
      assert.equal(refresh.status(), 200);
      assert.equal(
        new URLSearchParams(refresh.request().postData() ?? '').get('refresh_token'),
        issued.refresh_token,
      );
      const rotated = (await refresh.json()) as Record<string, string>;
      assert.notEqual(rotated.access_token, issued.access_token);
      assert.ok(rotated.refresh_token);
      assert.notEqual(rotated.refresh_token, issued.refresh_token, 'rotated');
      const second = await meAgain;
      assert.equal(second.status(), 200);
      assert.equal(
        await second.request().headerValue('authorization'),
        `Bearer ${rotated.access_token}`,
      );
      await page.locator('[data-field="refreshed"]').filter({ hasNotText: 'never' }).waitFor();

      // Sign out: RP-initiated logout with the ID token, straight back to the app.
      const ended = page.waitForRequest((r) => r.url().startsWith(`${portcullis}/logout?`));
      await page.getByRole('button', { name: 'Sign out' }).click();
      const logout = new URL((await ended).url()).searchParams;
      assert.equal(logout.get('id_token_hint'), rotated.id_token ?? issued.id_token);
      assert.equal(logout.get('post_logout_redirect_uri'), `${spa}/`);
      await page.getByText('You are signed out of Portcullis and of this app.').waitFor();
      await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
      assert.equal(page.url(), `${spa}/`);
      assert.equal(await storageUsed(page), 0);

      // The app's session is over at Portcullis: its refresh token is dead…
      const api = client(world.server.url);
      const dead = await api.post(
        '/token',
        { grant_type: 'refresh_token', refresh_token: rotated.refresh_token, client_id: clientId },
        { form: true },
      );
      assert.equal(dead.status, 400, dead.text);
      assert.equal(dead.body.error, 'invalid_grant');
      // …and so is the browser's: signing in again asks for the password.
      await page.getByRole('button', { name: 'Sign in with Portcullis' }).click();
      await page.waitForURL((url) => url.origin === portcullis && url.pathname === '/login');

      const foreign = requests.filter((url) => ![portcullis, spa].includes(new URL(url).origin));
      assert.deepEqual(foreign, [], 'the pages contacted only the app and Portcullis (no CDN)');
      assert.ok(
        requests.includes(`${spa}/vendor/oauth4webapi.js`),
        'oauth4webapi served by the app',
      );
      assert.deepEqual(problems, [], 'no CSP violation and no script error');
    } finally {
      await context.close();
    }
  });

  it('says so when the user denies access, and stays signed out', async () => {
    const denier = newIdentity('deny');
    const registered = await client(world.server.url).post('/register', denier);
    assert.equal(registered.status, 201, registered.text);
    const { context, problems } = await profile();
    try {
      const page = await context.newPage();
      await page.goto(`${spa}/`);
      await page.getByRole('button', { name: 'Sign in with Portcullis' }).click();
      await page.getByLabel('Username or email').fill(denier.username);
      await page.getByLabel('Password', { exact: true }).fill(denier.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      const tokenCalls: string[] = [];
      page.on('request', (r) => {
        if (r.url() === `${portcullis}/token`) tokenCalls.push(r.url());
      });
      await page.getByRole('button', { name: 'Deny' }).click();
      await page.getByRole('alert').filter({ hasText: 'Portcullis did not sign you in' }).waitFor();
      await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
      assert.equal(page.url(), `${spa}/`, 'the error was removed from the address bar');
      assert.deepEqual(tokenCalls, [], 'no token request without a code');
      assert.equal(await storageUsed(page), 0, 'the pending sign-in was forgotten');
      assert.deepEqual(problems, [], 'no CSP violation and no script error');
    } finally {
      await context.close();
    }
  });

  it('serves only its own files, each under the same policy', async () => {
    for (const path of ['/', '/app.js', '/app.css', '/config.js', '/vendor/oauth4webapi.js']) {
      const answer = await fetch(`${spa}${path}`);
      assert.equal(answer.status, 200, path);
      assert.match(answer.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.equal(answer.headers.get('x-content-type-options'), 'nosniff');
    }
    const config = await (await fetch(`${spa}/config.js`)).text();
    assert.match(config, new RegExp(`"issuer": "${portcullis}"`));
    assert.match(config, new RegExp(`"clientId": "${clientId}"`));
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/server.ts', '/nope'])
      assert.equal((await fetch(`${spa}${path}`)).status, 404, path);
    assert.equal((await fetch(`${spa}/`, { method: 'POST' })).status, 405);
  });
});
