// End to end in Chromium: sessions over time. Access tokens live one minute here; the server's clock
// is injected and the page's clock is Playwright's, so both move forward together without waiting.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { register } from '../../src/auth/accounts/index.ts';
import { endAllSessionsOf } from '../../src/auth/sessions/index.ts';
import { launchChromium, newDevice, screenshot } from '../support/browser.ts';
import { newIdentity } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { type HeldRequest, startProxy } from '../support/proxy.ts';
import { startServer, type TestServer } from '../support/server.ts';

const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';
const ACCESS_MS = 60_000;

for (const db of testDatabases()) {
  describe(`sessions in Chromium on ${db}`, () => {
    let server: TestServer;
    let browser: Browser;
    before(async () => {
      server = await startServer({
        db,
        env: { ACCESS_TOKEN_EXPIRE_MINUTES: '1' },
      });
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    async function person(superuser = false): Promise<{ username: string; password: string }> {
      const who = newIdentity(superuser ? 'boss' : 'user');
      await register(server.app.services, { ...who, isSuperuser: superuser });
      return who;
    }

    async function signIn(
      page: Page,
      who: { username: string; password: string },
      path = '/',
      base = server.url,
    ) {
      await page.goto(`${base}/login?next=${encodeURIComponent(path)}`);
      await page.getByLabel('Username or email').fill(who.username);
      await page.getByLabel('Password', { exact: true }).fill(who.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${base}${path}`);
    }

    // The admin page marks its list busy while a search runs.
    async function search(admin: Page, text: string): Promise<void> {
      await admin.getByLabel('Search users').fill(text);
      await admin.getByRole('button', { name: 'Search' }).click();
      await admin.locator('[data-users][aria-busy="false"]').waitFor();
    }

    const signedIn = (page: Page, username: string) =>
      page.getByRole('heading', { name: `Signed in as ${username}` }).waitFor();

    it('refreshes silently before the access token expires, and after it has', async () => {
      const device = await newDevice(browser, server.url);
      try {
        const page = await device.page();
        await page.clock.install();
        const who = await person();
        await signIn(page, who);
        await signedIn(page, who.username);
        // Three quarters of the lifetime later the page refreshes on its own.
        const refreshed = page.waitForResponse((r) => r.url().endsWith('/session/refresh'));
        server.clock.advance(50_000);
        await page.clock.runFor(50_000);
        assert.equal((await refreshed).status(), 200);
        // The first access token is now past its expiry; the page works on the new one.
        server.clock.advance(30_000);
        const me = page.waitForResponse((r) => r.url().endsWith('/users/me'));
        await page.reload();
        assert.equal((await me).status(), 200);
        await signedIn(page, who.username);
        // Asleep for five minutes (laptop lid closed): the first call fails, one refresh, retried.
        server.clock.advance(5 * ACCESS_MS);
        const statuses: string[] = [];
        page.on('response', (r) => {
          const path = new URL(r.url()).pathname;
          if (['/users/me', '/session/refresh'].includes(path))
            statuses.push(`${path} ${r.status()}`);
        });
        await page.reload();
        await signedIn(page, who.username);
        assert.deepEqual(statuses, ['/users/me 401', '/session/refresh 200', '/users/me 200']);
      } finally {
        await device.close();
      }
    });

    it('keeps two tabs signed in when both refresh at the same moment', async () => {
      // The tabs reach the server through a forwarder that holds their refreshes, like a slow network.
      const proxy = await startProxy(server.url);
      const device = await newDevice(browser, proxy.url);
      try {
        const who = await person();
        const first = await device.page();
        await signIn(first, who, '/', proxy.url);
        const second = await device.page();
        await second.goto(`${proxy.url}/`);
        await signedIn(second, who.username);
        // Both tabs wake after the access token has expired and refresh with the same cookie.
        server.clock.advance(5 * ACCESS_MS);
        const holding = proxy.hold('/session/refresh', 2);
        const reloads = Promise.all([first.reload(), second.reload()]);
        const [one, two] = await holding;
        const token = (h?: HeldRequest) =>
          /__Host-portcullis_refresh=([^;]+)/.exec(h?.cookie ?? '')?.[1];
        assert.ok(token(one), 'the refresh cookie was sent');
        assert.equal(token(one), token(two), 'both tabs presented the same refresh token');
        assert.equal(await one?.forward(), 200);
        // The second arrives two seconds later: inside the grace window, so it is not taken for theft.
        server.clock.advance(2_000);
        assert.equal(await two?.forward(), 200);
        await reloads;
        await Promise.all([signedIn(first, who.username), signedIn(second, who.username)]);
        // No reuse was detected: the session lives on through the next refresh.
        server.clock.advance(5 * ACCESS_MS);
        await Promise.all([first.reload(), second.reload()]);
        await Promise.all([signedIn(first, who.username), signedIn(second, who.username)]);
      } finally {
        await device.close();
        await proxy.close();
      }
    });

    it('ends another device from /account, and that device loses access', async () => {
      const laptop = await newDevice(browser, server.url);
      const phone = await newDevice(browser, server.url, { phone: true, userAgent: IPHONE });
      try {
        const who = await person();
        const onPhone = await phone.page();
        await onPhone.clock.install();
        await signIn(onPhone, who, '/account');
        const onLaptop = await laptop.page();
        await signIn(onLaptop, who, '/account');
        const phoneRow = onLaptop.locator('[data-session-id]', { hasText: 'Safari on iPhone' });
        await phoneRow.waitFor();
        assert.equal(await onLaptop.locator('[data-session-id]').count(), 2);
        await screenshot(onLaptop, 'account-devices');
        await phoneRow.getByRole('button', { name: /^Sign out Safari on iPhone/ }).click();
        await onLaptop.getByText('Safari on iPhone has been signed out.').waitFor();
        await phoneRow.waitFor({ state: 'detached' });
        // The phone's page notices at its next check, within a minute.
        await onPhone.clock.runFor(61_000);
        await onPhone.waitForURL(/\/login\?next=%2Faccount$/);
        await onPhone.getByText('You were signed out. The session has ended.').waitFor();
        await screenshot(onPhone, 'phone-signed-out');
      } finally {
        await laptop.close();
        await phone.close();
      }
    });

    it('an administrator deactivates a user, whose open page then loses access', async () => {
      const adminDevice = await newDevice(browser, server.url);
      const userDevice = await newDevice(browser, server.url);
      try {
        const boss = await person(true);
        const victim = await person();
        const victimPage = await userDevice.page();
        await victimPage.clock.install();
        await signIn(victimPage, victim, '/account');
        const admin = await adminDevice.page();
        await signIn(admin, boss, '/admin');
        await admin.getByRole('heading', { name: 'Administration' }).waitFor();
        await admin.locator('[data-audit] table').waitFor();
        await search(admin, victim.username);
        const row = admin.locator(`[data-username="${victim.username}"]`);
        assert.equal(await admin.locator('[data-user-id]').count(), 1);
        // Scopes: take write away.
        await row.getByRole('button', { name: `Edit the scopes of ${victim.username}` }).click();
        await row.getByLabel('write').uncheck();
        await row.getByRole('button', { name: 'Save scopes' }).click();
        await admin.getByText(`Scopes of ${victim.username} saved.`).waitFor();
        await admin
          .locator(`[data-username="${victim.username}"]`, { hasText: 'scopes: read ·' })
          .waitFor();
        // Taking a right away ended the victim's access token; its refresh carries on with less.
        await search(admin, '');
        assert.ok((await admin.locator('[data-user-id]').count()) > 1);
        await screenshot(admin, 'admin');
        await search(admin, victim.username);
        await admin.getByRole('button', { name: `Deactivate ${victim.username}` }).click();
        await admin.getByRole('dialog').getByRole('button', { name: 'Deactivate' }).click();
        await admin.getByText(`${victim.username} is deactivated and signed out.`).waitFor();
        await admin
          .locator(`[data-username="${victim.username}"]`, { hasText: 'Disabled' })
          .waitFor();
        await victimPage.clock.runFor(61_000);
        await victimPage.waitForURL(/\/login\?next=%2Faccount$/);
        await victimPage.getByText('You were signed out. The session has ended.').waitFor();
        // Signing in again is refused with the reason.
        await victimPage.getByLabel('Username or email').fill(victim.username);
        await victimPage.getByLabel('Password', { exact: true }).fill(victim.password);
        await victimPage.getByRole('button', { name: 'Sign in' }).click();
        await victimPage.getByText('This account is disabled.').waitFor();
      } finally {
        await adminDevice.close();
        await userDevice.close();
      }
    });

    it('a refused refresh tells its own reason, even when the page checks in meanwhile', async () => {
      // The refusal's cookies reach the page before its reason does: the minute's check that runs in
      // between must not read the missing cookie as "signed out in another tab".
      const proxy = await startProxy(server.url);
      const device = await newDevice(browser, proxy.url);
      try {
        const who = newIdentity('user');
        const user = await register(server.app.services, who);
        const page = await device.page();
        await page.clock.install();
        await signIn(page, who, '/account', proxy.url);
        // The page's first calls are answered before the session ends (else one of them refreshes).
        await page.waitForLoadState('networkidle');
        await endAllSessionsOf(server.app.services, user.id, user.id);
        // The scheduled refresh (three quarters of the minute) is refused; only its headers arrive.
        const holding = proxy.hold('/session/refresh', 1);
        await page.clock.runFor(50_000);
        const [held] = await holding;
        const answer = await held?.forwardHeaders();
        assert.equal(answer?.status, 401);
        await page.waitForFunction("!document.cookie.includes('__Host-portcullis_csrf=')");
        // The minute's check runs while the refusal's reason is still on its way.
        await page.clock.runFor(15_000);
        await answer?.finish();
        await page.waitForURL(/\/login\?next=%2Faccount$/);
        await page.getByText('You were signed out. The session has ended.').waitFor();
      } finally {
        await device.close();
        await proxy.close();
      }
    });

    it('the admin page shows the audit log, naming who did what', async () => {
      const adminDevice = await newDevice(browser, server.url);
      try {
        const boss = await person(true);
        const someone = await person();
        const admin = await adminDevice.page();
        await signIn(admin, boss, '/admin');
        await search(admin, someone.username);
        await admin
          .getByRole('button', { name: `Make administrator: ${someone.username}` })
          .click();
        await admin.getByText(`${someone.username} is now an administrator.`).waitFor();
        await admin.getByRole('button', { name: 'Reload' }).click();
        const row = admin
          .locator('[data-audit] tbody tr', { hasText: 'admin.user_update' })
          .first();
        await row.waitFor();
        const text = (await row.textContent()) ?? '';
        assert.match(text, new RegExp(boss.username), 'the actor by name');
        assert.match(text, new RegExp(someone.username), 'the subject by name');
        assert.match(text, /isSuperuser: false → true/, 'what changed');
        await admin
          .locator('[data-audit] tbody tr', { hasText: 'login.success' })
          .first()
          .waitFor();
        await screenshot(admin, 'admin-audit');
      } finally {
        await adminDevice.close();
      }
    });

    it('an administrator signs a user out everywhere', async () => {
      const adminDevice = await newDevice(browser, server.url);
      const userDevice = await newDevice(browser, server.url);
      try {
        const boss = await person(true);
        const someone = await person();
        const theirs = await userDevice.page();
        await signIn(theirs, someone);
        const admin = await adminDevice.page();
        await signIn(admin, boss, '/admin');
        await search(admin, someone.username);
        await admin
          .getByRole('button', { name: `Sign ${someone.username} out everywhere` })
          .click();
        await admin
          .getByRole('dialog')
          .getByRole('button', { name: 'Sign out everywhere' })
          .click();
        await admin.getByText(`${someone.username} has been signed out everywhere.`).waitFor();
        await theirs.reload();
        await theirs.getByRole('heading', { name: 'Welcome to Portcullis' }).waitFor();
        await theirs.getByText('You were signed out. The session has ended.').waitFor();
      } finally {
        await adminDevice.close();
        await userDevice.close();
      }
    });
  });
}
