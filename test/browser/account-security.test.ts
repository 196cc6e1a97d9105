// The pages of issue 6 in Chromium: forgot → the mailed link → reset → sign in with the new password;
// the email verification link; 2FA enrolment on /account (the key read from the page, the code
// computed here), sign-in with password and code, then with a recovery code, and turning it off.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { register } from '../../src/auth/accounts/index.ts';
import { type Device, launchChromium, newDevice, screenshot } from '../support/browser.ts';
import { newIdentity } from '../support/http.ts';
import { linkToken, outboxMail } from '../support/mail.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { base32Decode, totp } from '../support/totp.ts';

interface PageGlobals {
  document: { documentElement: { scrollWidth: number } };
  innerWidth: number;
}
const sideways = (): boolean => {
  const g = globalThis as unknown as PageGlobals;
  return g.document.documentElement.scrollWidth > g.innerWidth;
};

for (const db of testDatabases()) {
  describe(`password reset, verification and 2FA pages in Chromium on ${db}`, () => {
    let server: TestServer;
    let browser: Browser;
    let device: Device;
    before(async () => {
      server = await startServer({ db });
      browser = await launchChromium();
      device = await newDevice(browser, server.url);
    });
    after(async () => {
      await device?.close();
      await browser?.close();
      await server?.close();
    });

    async function signIn(page: Page, username: string, password: string): Promise<void> {
      await page.goto(`${server.url}/login`);
      await page.getByLabel('Username or email').fill(username);
      await page.getByLabel('Password', { exact: true }).fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
    }

    async function signOut(page: Page): Promise<void> {
      await page.getByRole('button', { name: 'Sign out' }).first().click();
      await page.waitForURL(`${server.url}/login`);
    }

    it('forgot → the mailed link → a new password → signed in with it', async () => {
      const who = newIdentity('forgetful');
      await register(server.app.services, who);
      const page = await device.page();
      await page.goto(`${server.url}/login`);
      await page.getByRole('link', { name: 'Forgot your password?' }).click();
      await page.waitForURL(`${server.url}/forgot`);
      await page.locator('#email:focus').waitFor();
      await screenshot(page, 'forgot');
      await page.keyboard.type(who.email);
      await page.keyboard.press('Enter');
      const answer = 'If an account uses this address, a link to reset its password';
      await page.getByText(answer).waitFor();
      await screenshot(page, 'forgot-sent');
      // An unknown address gets the very same words.
      await page.goto(`${server.url}/forgot`);
      await page.getByLabel('Email address').fill(`nobody-${who.email}`);
      await page.getByRole('button', { name: 'Send the link' }).click();
      await page.getByText(answer).waitFor();

      const mail = await outboxMail(server.dataDir, who.email, 1, /Reset your password/);
      const token = linkToken(mail, server.config.publicUrl, 'reset');
      // As mailed: in the fragment, which the browser never sends to the server.
      await page.goto(`${server.url}/reset#token=${encodeURIComponent(token)}`);
      // The token leaves the address bar at once (history, screenshots, shoulder surfers).
      await page.waitForURL(`${server.url}/reset`);
      const field = page.getByLabel('New password');
      await field.fill('password');
      await page.locator('[data-rule="common"][data-state="bad"]').waitFor();
      await page.getByRole('button', { name: 'Set the new password' }).click();
      await page.locator('#new_password[aria-invalid="true"]').waitFor();
      assert.equal(await page.locator('#new_password-error').isVisible(), true);
      await screenshot(page, 'reset-refused');
      const fresh = 'a fresh and rather long passphrase';
      await field.fill(fresh);
      await page.locator('[data-rule="common"][data-state="ok"]').waitFor();
      await screenshot(page, 'reset');
      await page.getByRole('button', { name: 'Set the new password' }).click();
      await page.getByText('Your password has been changed.').waitFor();
      await screenshot(page, 'reset-done');

      // The link works once: opened again (as a link mailed before tokens moved to the fragment,
      // ?token=, which is still read), it is refused with the way to a new one.
      await page.goto(`${server.url}/reset?token=${encodeURIComponent(token)}`);
      await page.waitForURL(`${server.url}/reset`);
      await page.getByLabel('New password').fill('yet another long passphrase');
      await page.getByRole('button', { name: 'Set the new password' }).click();
      await page.getByText('This link is expired or has already been used.').waitFor();
      assert.equal(await page.getByRole('link', { name: 'Ask for a new link' }).isVisible(), true);

      await page.goto(`${server.url}/reset?token=${encodeURIComponent(token)}`);
      await page.getByRole('link', { name: 'Sign in', exact: true }).first().waitFor();
      await signIn(page, who.username, who.password);
      await page.getByText('Incorrect username or password.').waitFor();
      await signIn(page, who.username, fresh);
      await page.getByRole('heading', { name: `Signed in as ${who.username}` }).waitFor();
      await signOut(page);
      await page.close();
    });

    it('a reset page without a token says so', async () => {
      const page = await device.page();
      await page.goto(`${server.url}/reset`);
      await page.getByText('This link is incomplete.').waitFor();
      assert.equal(await page.getByLabel('New password').isVisible(), false);
      await page.close();
    });

    it('verifies the email address from the mailed link, once', async () => {
      const who = newIdentity('verifier');
      await register(server.app.services, who);
      const page = await device.page();
      await signIn(page, who.username, who.password);
      await page.getByRole('heading', { name: `Signed in as ${who.username}` }).waitFor();
      await page.goto(`${server.url}/account`);
      await page.getByText('Your email address is not verified yet.').waitFor();
      await page.getByRole('button', { name: 'Send a verification link' }).click();
      await page.getByText('A verification link has been sent to your address.').waitFor();
      await screenshot(page, 'account-verify-sent');
      const mail = await outboxMail(server.dataDir, who.email, 1, /Confirm your email address/);
      const token = linkToken(mail, server.config.publicUrl, 'verify');
      await page.goto(`${server.url}/verify#token=${encodeURIComponent(token)}`);
      await page.getByText('Your email address is verified.').waitFor();
      await page.waitForURL(`${server.url}/verify`);
      await screenshot(page, 'verify-done');
      await page.goto(`${server.url}/`);
      await page
        .locator('dd [data-field="verified"]')
        .getByText('Verified', { exact: true })
        .waitFor();
      await page.goto(`${server.url}/account`);
      await page.getByLabel('Username').waitFor();
      assert.equal(
        await page.getByText('Your email address is not verified yet.').isVisible(),
        false,
      );
      await page.goto(`${server.url}/verify?token=${encodeURIComponent(token)}`);
      await page.getByText('This link is expired or has already been used.').waitFor();
      await signOut(page);
      await page.close();
    });

    it('enrols 2FA on /account, then signs in with password and code, or a recovery code', async () => {
      const who = newIdentity('enrol');
      await register(server.app.services, who);
      const page = await device.page();
      await signIn(page, who.username, who.password);
      await page.getByRole('heading', { name: `Signed in as ${who.username}` }).waitFor();
      await page.goto(`${server.url}/account`);
      const section = page.locator('[data-twofa]');
      await section.getByText('Off', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Set up two-step verification' }).click();
      const qr = page.getByRole('img', { name: 'QR code to scan with your authenticator app' });
      await qr.waitFor();
      assert.ok(
        await qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0),
        'the QR code image is drawn',
      );
      assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/svg\+xml/);
      const secret = (await page.locator('[data-secret]').textContent()) ?? '';
      assert.match(secret, /^[A-Z2-7]{16,}$/);
      await page.locator('#totp_code:focus').waitFor();
      await screenshot(page, 'account-2fa-enrol');

      const key = base32Decode(secret);
      const right = totp(key, server.clock());
      await page.keyboard.type(right === '000000' ? '111111' : '000000');
      await page.keyboard.press('Enter');
      await page.getByText('The code is incorrect, expired or already used.').waitFor();
      await page.getByLabel('2. Code shown by the app').fill(right);
      await page.getByRole('button', { name: 'Turn on' }).click();
      const codes = page.locator('[data-recovery-codes] code');
      await page.getByText('Save them now: they are not shown again.').waitFor();
      const recovery = await codes.allTextContents();
      assert.equal(recovery.length, 10);
      assert.equal(new Set(recovery).size, 10);
      await screenshot(page, 'account-2fa-recovery-codes');
      await page.getByRole('button', { name: 'I have saved them' }).click();
      await page.getByText('Two-step verification is on. 10 recovery codes left.').waitFor();
      assert.equal(await codes.count(), 0, 'the codes are gone from the page');
      await screenshot(page, 'account-2fa-on');
      await signOut(page);

      // The next time step: the confirming code is spent.
      server.clock.advance(30_000);
      await signIn(page, who.username, who.password);
      await page.getByText('This account has two-step verification.').waitFor();
      await page.getByLabel('Authentication code').fill(totp(key, server.clock()));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: `Signed in as ${who.username}` }).waitFor();
      await signOut(page);

      await signIn(page, who.username, who.password);
      await page.getByText('This account has two-step verification.').waitFor();
      await page.getByLabel('Authentication code').fill(recovery[0] ?? '');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: `Signed in as ${who.username}` }).waitFor();

      await page.goto(`${server.url}/account`);
      await page.getByText('Two-step verification is on. 9 recovery codes left.').waitFor();
      await page.getByRole('button', { name: 'Turn off…' }).click();
      await page.getByRole('button', { name: 'Keep it on' }).click();
      await page.locator('[data-twofa-off]:focus').waitFor();
      assert.equal(await page.getByLabel('Or an authentication code').isVisible(), false);
      await page.keyboard.press('Enter');
      await page.locator('#disable_password:focus').waitFor();
      await page.keyboard.type('not my password');
      await page.getByRole('button', { name: 'Turn off two-step verification' }).click();
      await page.getByText('The password is incorrect.').waitFor();
      await screenshot(page, 'account-2fa-off-refused');
      await page.locator('#disable_password').fill(who.password);
      await page.getByRole('button', { name: 'Turn off two-step verification' }).click();
      await page.getByText('Two-step verification is off.').waitFor();
      await section.getByText('Off', { exact: true }).waitFor();
      await signOut(page);
      await signIn(page, who.username, who.password);
      await page.getByRole('heading', { name: `Signed in as ${who.username}` }).waitFor();
      await signOut(page);
      await page.close();
    });

    it('reads well on a phone: /forgot, /reset and the 2FA enrolment', async () => {
      const phone = await newDevice(browser, server.url, { phone: true });
      try {
        const page = await phone.page();
        await page.goto(`${server.url}/forgot`);
        assert.equal(await page.evaluate(sideways), false);
        await screenshot(page, 'phone-forgot');
        await page.goto(`${server.url}/reset?token=x`);
        assert.equal(await page.evaluate(sideways), false);
        await screenshot(page, 'phone-reset');
        const who = newIdentity('phone2fa');
        await register(server.app.services, who);
        await signIn(page, who.username, who.password);
        await page.getByRole('heading', { name: `Signed in as ${who.username}` }).waitFor();
        await page.goto(`${server.url}/account`);
        await page.getByRole('button', { name: 'Set up two-step verification' }).click();
        await page
          .locator('[data-secret]')
          .getByText(/[A-Z2-7]{16,}/)
          .waitFor();
        assert.equal(await page.evaluate(sideways), false);
        await screenshot(page, 'phone-account-2fa-enrol');
      } finally {
        await phone.close();
      }
    });
  });
}
