// Passkeys end to end in Chromium, with a CDP virtual authenticator (ctap2, internal transport,
// resident keys, user verification) and the server on http://localhost:PORT (PUBLIC_URL's host a
// name, as WebAuthn needs): add a passkey on /account, sign out, sign in with it without typing a
// name, see the name on /; remove it and see the sign-in fail; the autofill path.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { register } from '../../src/auth/accounts/index.ts';
import { type Device, launchChromium, newDevice, screenshot } from '../support/browser.ts';
import { newIdentity } from '../support/http.ts';
import { freePort } from '../support/oauth.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

for (const db of testDatabases()) {
  describe(`passkeys in Chromium on ${db}`, () => {
    let server: TestServer;
    let base: string;
    let browser: Browser;
    let device: Device;
    before(async () => {
      const port = await freePort();
      base = `http://localhost:${port}`;
      server = await startServer({ db, port, env: { PUBLIC_URL: base, ISSUER: base } });
      browser = await launchChromium();
      device = await newDevice(browser, base);
    });
    after(async () => {
      await device?.close();
      await browser?.close();
      await server?.close();
    });

    /** A virtual platform authenticator for this page: passkeys, verified user, no prompt. */
    async function authenticator(page: Page): Promise<{ cdp: CDPSession; id: string }> {
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      });
      return { cdp, id: authenticatorId };
    }

    async function passwordSignIn(page: Page, username: string, password: string): Promise<void> {
      await page.goto(`${base}/login`);
      await page.getByLabel('Username or email').fill(username);
      await page.getByLabel('Password', { exact: true }).fill(password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(`${base}/`);
    }

    async function signOut(page: Page): Promise<void> {
      await page.getByRole('button', { name: 'Sign out' }).first().click();
      await page.waitForURL(`${base}/login`);
    }

    it('adds a passkey on /account, signs in with it (no name typed), removes it, and then it fails', async () => {
      const who = newIdentity('pkb');
      await register(server.app.services, who);
      const page = await device.page();
      // A browser without passkey autofill: the virtual authenticator would otherwise answer the
      // page's conditional request as soon as /login loads (the next test takes that path).
      await page.addInitScript(() => {
        const pkc = (globalThis as unknown as { PublicKeyCredential: Record<string, unknown> })
          .PublicKeyCredential;
        pkc.isConditionalMediationAvailable = async () => false;
      });
      const { cdp, id } = await authenticator(page);
      await passwordSignIn(page, who.username, who.password);

      await page.goto(`${base}/account`);
      const section = page.locator('[data-passkeys]');
      await section.getByText('No passkeys yet.').waitFor();
      await section.getByLabel('Name of the new passkey').fill('Test laptop');
      await section.getByRole('button', { name: 'Add a passkey' }).click();
      await section.locator('[data-passkey-name]', { hasText: 'Test laptop' }).waitFor();
      await section.getByText('Not used yet').waitFor();
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: id });
      assert.equal(credentials.length, 1);
      assert.equal(credentials[0]?.isResidentCredential, true);
      await screenshot(page, 'passkeys-account');

      await signOut(page);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await page.waitForURL(`${base}/`);
      await page.getByRole('heading', { name: `Signed in as ${who.username}` }).waitFor();
      assert.equal(await page.getByLabel('Username or email').count(), 0);

      // The passkey's last use shows; the sign-in is one of the signed-in devices.
      await page.goto(`${base}/account`);
      await section.getByText(/Last used/).waitFor();
      assert.ok((await page.locator('[data-sessions] li').count()) >= 1);

      await section.getByRole('button', { name: 'Remove Test laptop' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Remove passkey' }).click();
      await section.getByText('No passkeys yet.').waitFor();

      // The authenticator still holds its key, but the server no longer knows it.
      await signOut(page);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await page.getByText('This passkey is not registered here').waitFor();
      assert.equal(new URL(page.url()).pathname, '/login');
      await screenshot(page, 'passkeys-login-refused');
      await page.close();
    });

    it('the username field offers passkeys (autocomplete="username webauthn"): autofill signs in without the button', async () => {
      const who = newIdentity('pka');
      await register(server.app.services, who);
      const page = await device.page();
      await authenticator(page);
      await page.goto(`${base}/login`);
      const field = page.getByLabel('Username or email');
      assert.equal(await field.getAttribute('autocomplete'), 'username webauthn');
      await passwordSignIn(page, who.username, who.password);
      await page.goto(`${base}/account`);
      const section = page.locator('[data-passkeys]');
      await section.getByRole('button', { name: 'Add a passkey' }).click();
      await section.locator('[data-passkey-name]', { hasText: 'Passkey 1' }).waitFor();
      // Conditional mediation: /login asks with mediation "conditional" as soon as it loads, and the
      // virtual authenticator (presence simulated) picks its one passkey: no button, no name typed.
      await signOut(page);
      await page.waitForURL(`${base}/`, { timeout: 10_000 });
      await page.getByRole('heading', { name: `Signed in as ${who.username}` }).waitFor();
      await page.close();
    });
  });
}
