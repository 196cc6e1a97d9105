// End to end in Chromium: the provider's own pages as a person meets them, under the server's
// strict Content-Security-Policy — prompt=login sending a signed-in user through /login again
// (reauth=1) and back to the app, the error page for an unregistered app, Deny on the consent
// page, and RP-initiated logout without an id_token_hint: the confirmation (Stay signed in, then
// Sign out) and the signed-out page.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, screenshot } from '../support/browser.ts';
import {
  type Listener,
  listener,
  makeUser,
  type OAuthWorld,
  oauthWorld,
  type RegisteredClient,
  registerClient,
} from '../support/oauth.ts';
import { testDatabases } from '../support/postgres.ts';

function authorizeQuery(
  client: RegisteredClient,
  redirectUri: string,
  extra: Record<string, string> = {},
): URLSearchParams {
  const verifier = randomBytes(32).toString('base64url');
  return new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: redirectUri,
    scope: 'openid profile',
    state: 'st-1',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  });
}

for (const db of testDatabases()) {
  describe(`the provider's pages in Chromium on ${db}`, () => {
    let world: OAuthWorld;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let app: Listener;
    let own: RegisteredClient;
    let other: RegisteredClient;
    const problems: string[] = [];
    let alice: { username: string; password: string };

    before(async () => {
      world = await oauthWorld(db);
      app = await listener();
      own = await registerClient(world, {
        name: 'Notes',
        redirect_uris: [`${app.base}/cb`],
        scope: 'openid profile',
        first_party: true,
      });
      other = await registerClient(world, {
        name: 'Photo <Print> & Co',
        redirect_uris: [`${app.base}/cb`],
        scope: 'openid profile',
      });
      alice = await makeUser(world, 'alice');
      browser = await launchChromium();
      // The server's own policy applies to these pages (they are not PAGE_PATHS of newDevice).
      context = await browser.newContext({ locale: 'en-GB', timezoneId: 'UTC' });
      context.setDefaultTimeout(15_000);
      context.on('page', (p) => {
        p.on('console', (m) => {
          if (/Content Security Policy/i.test(m.text())) problems.push(m.text());
        });
        p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      });
      page = await context.newPage();
      await page.goto(`${world.server.url}/login?next=%2Faccount`);
      await page.getByLabel('Username or email').fill(alice.username);
      await page.getByLabel('Password', { exact: true }).fill(alice.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${world.server.url}/account`);
    });
    after(async () => {
      await context?.close();
      await browser?.close();
      await app?.close();
      await world?.close();
      assert.deepEqual(problems, [], 'no CSP violation and no script error');
    });

    it('prompt=login: a signed-in user types the password again, then goes back to the app', async () => {
      const query = authorizeQuery(own, `${app.base}/cb`, { prompt: 'login' });
      const callback = app.next('/cb');
      await page.goto(`${world.server.url}/authorize?${query}`);
      await page.waitForURL(/\/login\?/);
      assert.equal(new URL(page.url()).searchParams.get('reauth'), '1');
      await page.getByText('Sign in again to continue.').waitFor();
      await page.waitForTimeout(500);
      assert.equal(new URL(page.url()).pathname, '/login', 'no automatic return');
      assert.equal(await page.getByLabel('Username or email').inputValue(), alice.username);
      await page.getByLabel('Password', { exact: true }).fill(alice.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const returned = await callback;
      // The app's page has loaded before the browser goes anywhere else.
      await page.waitForURL((url) => url.href.startsWith(app.base));
      assert.ok(returned.searchParams.get('code'), returned.href);
      assert.equal(returned.searchParams.get('state'), 'st-1');
    });

    it('shows an error page, never a redirect, for an app that is not registered', async () => {
      const query = authorizeQuery(own, `${app.base}/cb`, { client_id: 'no-such-app' });
      const answer = await page.goto(`${world.server.url}/authorize?${query}`);
      assert.equal(answer?.status(), 400);
      assert.match(answer?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
      await page.getByRole('heading', { level: 1 }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/authorize');
      await page.getByRole('link', { name: 'Go to the Portcullis home page' }).waitFor();
      await screenshot(page, 'authorize-error');
    });

    it('Deny on the consent page sends access_denied to the app', async () => {
      const query = authorizeQuery(other, `${app.base}/cb`);
      const callback = app.next('/cb');
      await page.goto(`${world.server.url}/authorize?${query}`);
      await page
        .getByRole('heading', {
          name: 'Photo <Print> & Co wants to access your Portcullis account',
        })
        .waitFor();
      await page.getByText(`Signed in as ${alice.username}`).waitFor();
      await page.getByRole('button', { name: 'Deny' }).click();
      const returned = await callback;
      // The app's page has loaded before the browser goes anywhere else.
      await page.waitForURL((url) => url.href.startsWith(app.base));
      assert.equal(returned.searchParams.get('error'), 'access_denied');
      assert.equal(returned.searchParams.get('state'), 'st-1');
      assert.equal(returned.searchParams.get('code'), null);
    });

    it('fits a phone: a long app name without spaces wraps instead of widening the page', async () => {
      const long = await registerClient(world, {
        name: `Photo${'Print'.repeat(19)}`,
        redirect_uris: [`${app.base}/cb`],
        scope: 'openid profile',
      });
      await page.setViewportSize({ width: 390, height: 844 });
      try {
        await page.goto(`${world.server.url}/authorize?${authorizeQuery(long, `${app.base}/cb`)}`);
        await page.getByRole('button', { name: 'Allow' }).waitFor();
        const sideways = await page.evaluate(() => {
          const g = globalThis as unknown as {
            document: { documentElement: { scrollWidth: number } };
            innerWidth: number;
          };
          return g.document.documentElement.scrollWidth > g.innerWidth;
        });
        assert.equal(sideways, false, 'no sideways scrolling');
        await screenshot(page, 'consent-phone');
      } finally {
        await page.setViewportSize({ width: 1280, height: 860 });
      }
    });

    it('Use another account on the consent page: a fresh sign-in, then the same request', async () => {
      const bob = await makeUser(world, 'bob');
      const callback = app.next('/cb');
      await page.goto(`${world.server.url}/authorize?${authorizeQuery(other, `${app.base}/cb`)}`);
      await page.getByText(`Signed in as ${alice.username}`).waitFor();
      await page.getByRole('link', { name: 'Use another account' }).click();
      await page.getByText('Sign in again to continue.').waitFor();
      await page.getByLabel('Username or email').fill(bob.username);
      await page.getByLabel('Password', { exact: true }).fill(bob.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText(`Signed in as ${bob.username}`).waitFor();
      await page.getByRole('button', { name: 'Allow' }).click();
      const returned = await callback;
      await page.waitForURL((url) => url.href.startsWith(app.base));
      assert.ok(returned.searchParams.get('code'), returned.href);
      assert.equal(returned.searchParams.get('state'), 'st-1');
    });

    it('RP-initiated logout without a hint asks first; Stay signed in keeps the session', async () => {
      const logout = `${world.server.url}/logout?client_id=${encodeURIComponent(other.client_id)}`;
      await page.goto(logout);
      await page.getByRole('heading', { name: 'Sign out of Portcullis?' }).waitFor();
      await page.getByText('Photo <Print> & Co asks to sign you out').waitFor();
      await screenshot(page, 'logout-confirm');
      await page.getByRole('button', { name: 'Stay signed in' }).click();
      await page.waitForURL(`${world.server.url}/`);
      await page.goto(`${world.server.url}/account`);
      await page.getByRole('heading', { name: 'Account and security' }).waitFor();

      await page.goto(logout);
      // The form's button, not the top bar's (which signs out through the API).
      await page.locator('main').getByRole('button', { name: 'Sign out', exact: true }).click();
      await page
        .getByRole('heading', { name: 'You have signed out of Photo <Print> & Co' })
        .waitFor();
      await screenshot(page, 'signed-out');
      // The top bar now offers the way back in, and the account page asks for a sign-in.
      await page.getByRole('link', { name: 'Sign in again' }).click();
      await page.waitForURL(`${world.server.url}/login`);
      await page.goto(`${world.server.url}/account`);
      await page.waitForURL(/\/login\?next=%2Faccount/);
    });
  });
}
