// End to end in Chromium: a new visitor registers, signs in with the keyboard alone, sees who is
// signed in on /, stays signed in across a reload, edits the account and signs out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { register } from '../../src/auth/accounts/index.ts';
import { type Device, launchChromium, newDevice, screenshot } from '../support/browser.ts';
import { client, login, newIdentity } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { base32Decode, totp } from '../support/totp.ts';

// This project's types describe Node, not the DOM: the little the tests read in the page is typed here.
interface PageGlobals {
  document: { cookie: string; documentElement: { scrollWidth: number } };
  innerWidth: number;
}
const sideways = (): boolean => {
  const g = globalThis as unknown as PageGlobals;
  return g.document.documentElement.scrollWidth > g.innerWidth;
};

const LOCKOUT_THRESHOLD = 3;
const LOCKOUT_BASE_SECONDS = 5;

for (const db of testDatabases()) {
  describe(`the pages in Chromium on ${db}`, () => {
    let server: TestServer;
    let browser: Browser;
    let device: Device;
    const who = newIdentity('visitor');
    before(async () => {
      server = await startServer({
        db,
        env: {
          LOCKOUT_THRESHOLD: String(LOCKOUT_THRESHOLD),
          LOCKOUT_BASE_SECONDS: String(LOCKOUT_BASE_SECONDS),
        },
      });
      browser = await launchChromium();
      device = await newDevice(browser, server.url);
    });
    after(async () => {
      await device?.close();
      await browser?.close();
      await server?.close();
    });

    it('shows a visitor the way in on /', async () => {
      const page = await device.page();
      await page.goto(`${server.url}/`);
      await page.getByRole('heading', { name: 'Welcome to Portcullis' }).waitFor();
      assert.equal(await page.getByRole('link', { name: 'Sign in' }).first().isVisible(), true);
      await screenshot(page, 'home-signed-out');
      await page.close();
    });

    it('registers, explaining the password policy as it is typed', async () => {
      const page = await device.page();
      await page.goto(`${server.url}/register`);
      await page.getByLabel('Email address').fill(who.email);
      await page.getByLabel('Username').fill(who.username);
      const password = page.getByLabel('Password', { exact: true });
      const rule = (name: string) => page.locator(`[data-rule="${name}"]`);
      await password.fill('password');
      await page.locator('[data-rule="common"][data-state="bad"]').waitFor();
      assert.equal(await rule('length').getAttribute('data-state'), 'ok');
      await password.fill(who.username);
      await page.locator('[data-rule="personal"][data-state="bad"]').waitFor();
      await password.fill('short');
      assert.equal(await rule('length').getAttribute('data-state'), 'bad');
      await screenshot(page, 'register-policy');
      await password.fill(who.password);
      for (const name of ['length', 'common', 'personal']) {
        await page.locator(`[data-rule="${name}"][data-state="ok"]`).waitFor();
      }
      await screenshot(page, 'register');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${server.url}/login`);
      await page.getByText(`Your account ${who.username} is ready`).waitFor();
      assert.equal(await page.getByLabel('Username or email').inputValue(), who.username);
      await page.close();
    });

    it('holds a sign-in sent before the page script is ready: never in the address, sent once it is', async () => {
      const target = newIdentity('early');
      await register(server.app.services, target);
      const page = await device.page();
      // The page's script arrives late (a slow network): the form is there long before its handler.
      let release = (): void => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      await page.route('**/assets/login.js', async (route) => {
        await held;
        await route.continue();
      });
      const navigations: string[] = [];
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) navigations.push(frame.url());
      });
      // 'commit': DOMContentLoaded itself waits for module scripts.
      await page.goto(`${server.url}/login`, { waitUntil: 'commit' });
      await page.getByLabel('Username or email').fill(target.username);
      // Typing the password while the script is still on its way: its arrival must not move the
      // caret (the rest of the password would land in the username field, in clear).
      const half = Math.floor(target.password.length / 2);
      await page.getByLabel('Password', { exact: true }).click();
      await page.keyboard.type(target.password.slice(0, half));
      release();
      await page.locator('form[data-form="login"][data-armed]').waitFor({ state: 'attached' });
      await page.keyboard.type(target.password.slice(half));
      assert.equal(await page.getByLabel('Username or email').inputValue(), target.username);
      assert.equal(
        await page.getByLabel('Password', { exact: true }).inputValue(),
        target.password,
      );
      // Again, held back, and this time the form is sent before the script is there.
      release = () => {};
      const heldAgain = new Promise<void>((resolve) => {
        release = resolve;
      });
      await page.unroute('**/assets/login.js');
      await page.route('**/assets/login.js', async (route) => {
        await heldAgain;
        await route.continue();
      });
      await page.reload({ waitUntil: 'commit' });
      await page.getByLabel('Username or email').fill(target.username);
      await page.getByLabel('Password', { exact: true }).fill(target.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForTimeout(500);
      assert.equal(new URL(page.url()).pathname, '/login', 'the browser did not submit the form');
      assert.equal(new URL(page.url()).search, '', 'nothing was put in the address');
      release();
      // Once the script runs, the held submission goes through: signed in without a second click.
      await page.getByRole('heading', { name: `Signed in as ${target.username}` }).waitFor();
      for (const url of navigations) {
        assert.ok(!url.includes(encodeURIComponent(target.password).slice(0, 8)), url);
        assert.ok(!new URL(url).searchParams.has('password'), url);
      }
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${server.url}/login`);
      await page.close();
    });

    it('refuses a wrong password with a clear message', async () => {
      const page = await device.page();
      await page.goto(`${server.url}/login`);
      await page.getByLabel('Username or email').fill(who.username);
      await page.getByLabel('Password', { exact: true }).fill('not my password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').getByText('Incorrect username or password.').waitFor();
      await screenshot(page, 'login-error');
      await page.close();
    });

    it('shows the wait when the account is slowed down after failures (429 Retry-After)', async () => {
      const target = newIdentity('locked');
      await register(server.app.services, target);
      const page = await device.page();
      await page.clock.install();
      await page.goto(`${server.url}/login`);
      await page.getByLabel('Username or email').fill(target.username);
      const password = page.getByLabel('Password', { exact: true });
      const submit = page.getByRole('button', { name: 'Sign in' });
      for (let i = 0; i < LOCKOUT_THRESHOLD; i += 1) {
        await password.fill(`wrong guess ${i}`);
        const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/login');
        await submit.click();
        assert.equal((await answer).status(), 400);
        await page.getByRole('alert').getByText('Incorrect username or password.').waitFor();
      }
      // Now even the right password waits: the page shows how long, and counts down. The page's
      // clock stops here, so that only runFor moves the countdown (a slow machine's own seconds
      // would otherwise count it past what the test looks for).
      await page.clock.pauseAt(Date.now() + 1_000);
      await password.fill(target.password);
      await submit.click();
      await page.getByText(`wait ${LOCKOUT_BASE_SECONDS} seconds before trying again`).waitFor();
      assert.equal(await submit.isDisabled(), true);
      await screenshot(page, 'login-slowed-down');
      await page.clock.runFor(1_000);
      await page
        .getByText(`wait ${LOCKOUT_BASE_SECONDS - 1} seconds before trying again`)
        .waitFor();
      server.clock.advance((LOCKOUT_BASE_SECONDS + 1) * 1000);
      await page.clock.runFor(LOCKOUT_BASE_SECONDS * 1000);
      await page.getByRole('alert').waitFor({ state: 'hidden' });
      await submit.click();
      await page.getByRole('heading', { name: `Signed in as ${target.username}` }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${server.url}/login`);
      await page.close();
    });

    it('asks an account with 2FA for its code, refuses a wrong one, accepts the right one', async () => {
      const target = newIdentity('twofa');
      await register(server.app.services, target);
      const api = client(server.url);
      const token = (await login(api, target.username, target.password)).access_token;
      const enrol = await api.post<{ secret: string }>('/users/me/totp', undefined, { token });
      assert.equal(enrol.status, 200, enrol.text);
      const confirm = await api.post(
        '/users/me/totp/confirm',
        { code: totp(base32Decode(enrol.body.secret), server.clock()) },
        { token },
      );
      assert.equal(confirm.status, 200, confirm.text);
      // The next time step: a code is accepted once only.
      server.clock.advance(30_000);
      const page = await device.page();
      await page.goto(`${server.url}/login`);
      const otp = page.getByLabel('Authentication code');
      assert.equal(await otp.isVisible(), false);
      await page.getByLabel('Username or email').fill(target.username);
      await page.getByLabel('Password', { exact: true }).fill(target.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('This account has two-step verification.').waitFor();
      await page.locator('#otp:focus').waitFor();
      await screenshot(page, 'login-second-factor');
      const right = totp(base32Decode(enrol.body.secret), server.clock());
      await page.keyboard.type(right === '000000' ? '111111' : '000000');
      await page.keyboard.press('Enter');
      await page.getByText('The code is incorrect, expired or already used.').waitFor();
      await page.locator('#otp:focus').waitFor();
      await page.keyboard.type(right);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: `Signed in as ${target.username}` }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${server.url}/login`);
      await page.close();
    });

    it('signs in with the keyboard alone and shows the user on /, also after a reload', async () => {
      const page = await device.page();
      await page.goto(`${server.url}/login`);
      await screenshot(page, 'login');
      // The script focuses the first field; everything else is Tab, typing and Enter.
      await page.locator('#username:focus').waitFor();
      await page.keyboard.type(who.email);
      await page.keyboard.press('Tab');
      await page.keyboard.type(who.password);
      await page.keyboard.press('Tab');
      assert.equal(await page.locator(':focus').textContent(), 'Show');
      await page.keyboard.press('Enter');
      assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('type'), 'text');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      assert.equal(await page.locator(':focus').textContent(), 'Sign in');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${server.url}/`);
      const heading = page.getByRole('heading', { name: `Signed in as ${who.username}` });
      await heading.waitFor();
      await screenshot(page, 'home');
      await page.reload();
      await heading.waitFor();
      const cookies = await device.context.cookies(server.url);
      const access = cookies.find((c) => c.name === '__Host-portcullis_access');
      assert.equal(access?.httpOnly, true);
      assert.equal(access?.secure, true);
      assert.equal(access?.sameSite, 'Strict');
      assert.equal(
        await page.evaluate(() =>
          (globalThis as unknown as PageGlobals).document.cookie.includes('portcullis_access'),
        ),
        false,
        'the page cannot read the tokens',
      );
      await page.close();
    });

    it('changes the profile and the password from /account', async () => {
      const page = await device.page();
      await page.goto(`${server.url}/account`);
      const newName = `${who.username}x`;
      await page.getByLabel('Username').fill(newName);
      await page.getByRole('button', { name: 'Save profile' }).click();
      await page.getByText('Profile saved.').waitFor();
      assert.equal(await page.locator('.who-name').textContent(), newName);
      who.username = newName;
      await page.getByLabel('Current password').fill('wrong password');
      await page.getByLabel('New password').fill('a brand new passphrase');
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByText('The password is incorrect.').waitFor();
      await page.getByLabel('Current password').fill(who.password);
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByText('Password changed.').waitFor();
      who.password = 'a brand new passphrase';
      await screenshot(page, 'account');
      await page.close();
    });

    it('signs out from the top bar: the cookies are gone and / invites to sign in', async () => {
      const page = await device.page();
      await page.goto(`${server.url}/`);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${server.url}/login`);
      await page.getByText('You have signed out.').waitFor();
      const names = (await device.context.cookies(server.url)).map((c) => c.name);
      // Except the passkey ceremonies' browser binding, which /login's autofill sets again at once:
      // a random id that names no session and no user (SPEC §10).
      assert.deepEqual(
        names.filter((n) => n.includes('portcullis') && n !== '__Host-portcullis_webauthn'),
        [],
      );
      await page.goto(`${server.url}/`);
      await page.getByRole('heading', { name: 'Welcome to Portcullis' }).waitFor();
      await page.goto(`${server.url}/account`);
      await page.waitForURL(/\/login\?next=%2Faccount$/);
      await page.getByText('Sign in to continue.').waitFor();
      await page.close();
    });

    it('follows a dark colour scheme', async () => {
      const dark = await newDevice(browser, server.url, { dark: true });
      try {
        const page = await dark.page();
        await page.goto(`${server.url}/login`);
        await page.getByLabel('Username or email').fill(who.username);
        await page.getByLabel('Password', { exact: true }).fill(who.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('heading', { name: `Signed in as ${who.username}` }).waitFor();
        await screenshot(page, 'home-dark');
      } finally {
        await dark.close();
      }
    });

    it('reads well on a phone', async () => {
      const phone = await newDevice(browser, server.url, { phone: true });
      try {
        const page = await phone.page();
        await page.goto(`${server.url}/login`);
        await screenshot(page, 'phone-login');
        await page.getByLabel('Username or email').fill(who.username);
        await page.getByLabel('Password', { exact: true }).fill(who.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('heading', { name: `Signed in as ${who.username}` }).waitFor();
        const overflow = await page.evaluate(sideways);
        assert.equal(overflow, false, 'no sideways scrolling');
        await screenshot(page, 'phone-home');
        await page.goto(`${server.url}/account`);
        await page.locator('[data-session-id]').first().waitFor();
        assert.equal(await page.evaluate(sideways), false);
        await screenshot(page, 'phone-account');
      } finally {
        await phone.close();
      }
    });
  });
}
