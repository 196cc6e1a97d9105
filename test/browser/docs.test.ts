// End to end in Chromium: the API docs' Authorize button signs in with the password flow and "Try it
// out" calls GET /users/me; and every page, docs included, contacts no host but the server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { register } from '../../src/auth/accounts/index.ts';
import { launchChromium, newDevice, screenshot } from '../support/browser.ts';
import { newIdentity } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

for (const db of testDatabases()) {
  describe(`API docs and requests in Chromium on ${db}`, () => {
    let server: TestServer;
    let browser: Browser;
    before(async () => {
      server = await startServer({ db });
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    it('/docs: Authorize with the password flow, then GET /users/me answers 200', async () => {
      const who = newIdentity('docs');
      await register(server.app.services, who);
      const device = await newDevice(browser, server.url);
      try {
        const page = await device.page();
        await page.goto(`${server.url}/docs`);
        await page.locator('.btn.authorize').first().click();
        const modal = page.locator('.modal-ux');
        await modal.getByLabel('username:').fill(who.username);
        await modal.getByLabel('password:', { exact: true }).fill(who.password);
        const token = page.waitForResponse((r) => new URL(r.url()).pathname === '/token');
        // Swagger UI labels its buttons for assistive technology: "Authorize" is this one's text.
        await modal.getByRole('button', { name: 'Apply given OAuth2 credentials' }).click();
        assert.equal((await token).status(), 200);
        await modal.getByRole('button', { name: 'Remove authorization' }).waitFor();
        await screenshot(page, 'docs-authorized');
        await modal.getByRole('button', { name: 'Close' }).click();
        const operation = page.locator('#operations-account-get_users_me');
        await operation.locator('.opblock-summary').click();
        // "Try it out" is on from the start (tryItOutEnabled): Execute is there at once.
        const me = page.waitForResponse((r) => new URL(r.url()).pathname === '/users/me');
        await operation.getByRole('button', { name: 'Execute' }).click();
        const answer = await me;
        assert.equal(answer.status(), 200);
        assert.equal(((await answer.json()) as { username: string }).username, who.username);
        await operation
          .locator('.live-responses-table .response-col_status', { hasText: '200' })
          .waitFor();
        await operation
          .locator('.live-responses-table', { hasText: who.username })
          .first()
          .waitFor();
        await screenshot(page, 'docs-users-me');
      } finally {
        await device.close();
      }
    });

    it('no page makes a request to any host but the server', async () => {
      const boss = newIdentity('boss');
      await register(server.app.services, { ...boss, isSuperuser: true });
      const device = await newDevice(browser, server.url);
      try {
        const page = await device.page();
        for (const path of ['/', '/register', '/login']) await page.goto(`${server.url}${path}`);
        await page.getByLabel('Username or email').fill(boss.username);
        await page.getByLabel('Password', { exact: true }).fill(boss.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('heading', { name: `Signed in as ${boss.username}` }).waitFor();
        await page.goto(`${server.url}/account`);
        await page.locator('[data-session-id]').first().waitFor();
        await page.goto(`${server.url}/admin`);
        await page.locator('[data-user-id]').first().waitFor();
        await page.goto(`${server.url}/docs`);
        await page.locator('.btn.authorize').first().waitFor();
        const hosts = new Set(device.requests.map((url) => new URL(url).host));
        assert.deepEqual([...hosts], [new URL(server.url).host]);
        // Every kind of resource was seen: pages, scripts, styles, images and API calls.
        for (const part of [
          '/assets/app.css',
          '/assets/session.js',
          '/assets/logo.svg',
          '/users/me',
          '/docs/static/',
        ]) {
          assert.ok(
            device.requests.some((url) => url.includes(part)),
            `${part} was requested`,
          );
        }
      } finally {
        // close() fails on any request to another host and on any CSP violation.
        await device.close();
      }
    });
  });
}
