// End to end in Chromium: /login sends the user back to where they were going — a pending
// /authorize request with its encoded redirect_uri intact — and with reauth=1 (prompt=login,
// max_age) asks a signed-in user for the password again instead of returning at once. The
// account-creation detour keeps the destination too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { register } from '../../src/auth/accounts/index.ts';
import { type Device, launchChromium, newDevice, screenshot } from '../support/browser.ts';
import { newIdentity } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

// An authorization request as the server sends it to /login: every reserved character encoded.
const AUTHORIZE =
  '/authorize?response_type=code&client_id=app_123&redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2Fcb%3Fa%3D1%26b%3D2' +
  '&scope=openid%20profile&state=s%2Bt%3D&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256';
const loginUrl = (base: string, next: string, extra = '') =>
  `${base}/login?next=${encodeURIComponent(next)}${extra}`;

for (const db of testDatabases()) {
  describe(`/login and where it leads, in Chromium on ${db}`, () => {
    let server: TestServer;
    let browser: Browser;
    let device: Device;
    const who = newIdentity('back');
    before(async () => {
      server = await startServer({ db });
      await register(server.app.services, who);
      browser = await launchChromium();
      device = await newDevice(browser, server.url);
    });
    after(async () => {
      await device?.close();
      await browser?.close();
      await server?.close();
    });

    async function signIn(page: Page): Promise<void> {
      await page.getByLabel('Username or email').fill(who.username);
      await page.getByLabel('Password', { exact: true }).fill(who.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
    }

    it('returns to a pending /authorize request after signing in, its query intact', async () => {
      const page = await device.page();
      await page.goto(loginUrl(server.url, AUTHORIZE));
      // The way to create an account first carries the destination as well.
      const register = page.getByRole('link', { name: 'Create an account' });
      assert.equal(
        await register.getAttribute('href'),
        `/register?next=${encodeURIComponent(AUTHORIZE)}`,
      );
      await signIn(page);
      await page.waitForURL((url) => url.pathname === '/authorize');
      assert.equal(page.url(), `${server.url}${AUTHORIZE}`);
      await page.close();
    });

    it('sends a signed-in user straight back, unless reauth=1 asks for the password again', async () => {
      const page = await device.page();
      await page.goto(loginUrl(server.url, '/account?tab=1'));
      await page.waitForURL(`${server.url}/account?tab=1`);

      await page.goto(loginUrl(server.url, '/account?tab=2', '&reauth=1'));
      await page.getByText('Sign in again to continue.').waitFor();
      // Still here a moment later: no automatic return.
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await page.waitForTimeout(500);
      assert.equal(new URL(page.url()).pathname, '/login');
      assert.equal(await page.getByLabel('Username or email').inputValue(), who.username);
      await screenshot(page, 'login-reauth');
      await page.getByLabel('Password', { exact: true }).fill(who.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${server.url}/account?tab=2`);
      await page.close();
    });

    it('ignores a next that leads to another site', async () => {
      const page = await device.page();
      for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
        await page.goto(loginUrl(server.url, next));
        await page.waitForURL(`${server.url}/`);
      }
      await page.close();
    });

    it('keeps the destination through creating an account', async () => {
      const fresh = await newDevice(browser, server.url);
      try {
        const page = await fresh.page();
        await page.goto(
          `${server.url}/register?next=${encodeURIComponent('/account?from=register')}`,
        );
        assert.equal(
          await page
            .getByRole('link', { name: 'Sign in', exact: true })
            .last()
            .getAttribute('href'),
          `/login?next=${encodeURIComponent('/account?from=register')}`,
        );
        const newcomer = newIdentity('new');
        await page.getByLabel('Email').fill(newcomer.email);
        await page.getByLabel('Username').fill(newcomer.username);
        await page.getByLabel('Password', { exact: true }).fill(newcomer.password);
        await page.getByRole('button', { name: 'Create account' }).last().click();
        await page.waitForURL((url) => url.pathname === '/login');
        assert.equal(new URL(page.url()).searchParams.get('next'), '/account?from=register');
        await page.getByLabel('Password', { exact: true }).fill(newcomer.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(`${server.url}/account?from=register`);
      } finally {
        await fresh.close();
      }
    });
  });
}
