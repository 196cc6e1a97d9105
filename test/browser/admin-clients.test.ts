// End to end in Chromium: a superuser registers a confidential OAuth client on /admin, sees its
// client_id and secret once (the secret is the real one, and gone from the page once saved), finds
// it listed, rotates the secret (the old one stops working), and deletes the client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { register } from '../../src/auth/accounts/index.ts';
import { createClient, getClient, verifyClientSecret } from '../../src/auth/clients/index.ts';
import { type Device, launchChromium, newDevice, screenshot } from '../support/browser.ts';
import { newIdentity } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

const text = async (node: Locator): Promise<string> => ((await node.textContent()) ?? '').trim();

for (const db of testDatabases()) {
  describe(`OAuth clients on /admin, in Chromium on ${db}`, () => {
    let server: TestServer;
    let browser: Browser;
    let device: Device;
    let page: Page;
    const boss = newIdentity('boss');
    let bossId = '';
    before(async () => {
      server = await startServer({ db });
      bossId = (await register(server.app.services, { ...boss, isSuperuser: true })).id;
      browser = await launchChromium();
      device = await newDevice(browser, server.url);
      await device.context.grantPermissions(['clipboard-read', 'clipboard-write'], {
        origin: server.url,
      });
      page = await device.page();
      await page.goto(`${server.url}/login?next=%2Fadmin`);
      await page.getByLabel('Username or email').fill(boss.username);
      await page.getByLabel('Password', { exact: true }).fill(boss.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${server.url}/admin`);
      await page.getByRole('heading', { name: 'Clients' }).waitFor();
    });
    after(async () => {
      await device?.close();
      await browser?.close();
      await server?.close();
    });

    const rows = () => page.locator('[data-clients] > li');
    const secretBox = () => page.locator('[data-client-secret]');
    const dialog = () => page.getByRole('dialog');

    it('starts with an empty list and checks the form before sending it', async () => {
      await page.getByText('No clients are registered yet.').waitFor();
      await page.getByRole('button', { name: 'Register a client' }).click();
      await page.getByRole('button', { name: 'Register client' }).click();
      await page.getByText('Enter a name for the app.').waitFor();
      // A redirect URI with a fragment: the server's 422 lands beside the field.
      await page.getByLabel('Name', { exact: true }).fill('Broken');
      await page
        .getByLabel('Redirect URIs', { exact: true })
        .fill('https://app.example/cb\nhttps://app.example/cb#frag');
      await page.getByRole('button', { name: 'Register client' }).click();
      // Wait for the server's message itself: the slot still holds the local one until it lands.
      const error = page.locator('[data-error-for="redirect_uris"]', { hasText: /^Line 2:/ });
      await error.waitFor();
      assert.match(await text(error), /^Line 2: .*fragment/i);
      assert.equal(
        await page.getByLabel('Redirect URIs', { exact: true }).getAttribute('aria-invalid'),
        'true',
      );
      await page.getByRole('button', { name: 'Cancel' }).click();
      assert.equal(await rows().count(), 1);
    });

    let clientId = '';
    let firstSecret = '';

    it('registers a confidential client and shows its secret once', async () => {
      await page.getByRole('button', { name: 'Register a client' }).click();
      await page.getByLabel('Name', { exact: true }).fill('Print <Shop> & Co');
      await page
        .getByLabel('Redirect URIs', { exact: true })
        .fill('https://print.example/callback\n\n  http://127.0.0.1/cb  ');
      await page
        .getByLabel('Post-logout redirect URIs', { exact: true })
        .fill('https://print.example/bye');
      await page.getByLabel('Scope', { exact: true }).fill('openid  profile read');
      await page.getByLabel('Client credentials', { exact: true }).check();
      await page.getByLabel(/Confidential/).check();
      await page.getByLabel(/First-party/).check();
      await page.getByRole('button', { name: 'Register client' }).click();

      await secretBox().waitFor();
      await page.getByText('Copy the client secret now.').waitFor();
      clientId = await text(page.locator('[data-secret-id]'));
      firstSecret = await text(page.locator('[data-secret-value]'));
      assert.match(clientId, /^[A-Za-z0-9_-]{22,}$/);
      assert.ok(firstSecret.length >= 32, firstSecret);
      await screenshot(page, 'admin-client-secret');

      const s = server.app.services;
      assert.equal((await verifyClientSecret(s, clientId, firstSecret))?.clientId, clientId);
      const stored = await getClient(s, clientId);
      assert.equal(stored.name, 'Print <Shop> & Co');
      assert.deepEqual(stored.redirectUris, [
        'https://print.example/callback',
        'http://127.0.0.1/cb',
      ]);
      assert.deepEqual(stored.postLogoutRedirectUris, ['https://print.example/bye']);
      assert.deepEqual([...stored.grantTypes].sort(), [
        'authorization_code',
        'client_credentials',
        'refresh_token',
      ]);
      assert.deepEqual(stored.scope, ['openid', 'profile', 'read']);
      assert.equal(stored.tokenEndpointAuthMethod, 'client_secret_basic');
      assert.equal(stored.firstParty, true);

      const row = page.locator(`[data-client-id="${clientId}"]`);
      await row.waitFor();
      assert.equal(await rows().count(), 1);
      const shown = await text(row);
      assert.match(shown, /Print <Shop> & Co/);
      assert.match(shown, /Confidential/);
      assert.match(shown, /First-party/);
      assert.match(shown, /https:\/\/print\.example\/callback/);
      assert.ok(!shown.includes(firstSecret), 'the list never shows the secret');

      // The audit log below follows the change, and never holds the secret.
      await page.locator('[data-audit]').getByText('client.create', { exact: true }).waitFor();
      assert.ok(!(await text(page.locator('[data-audit]'))).includes(firstSecret));

      // Copy puts the secret itself on the clipboard.
      await secretBox().getByRole('button', { name: 'Copy' }).last().click();
      await page.getByText('Copied to the clipboard.').waitFor();
      const clipboard = await page.evaluate(() =>
        (
          globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
        ).navigator.clipboard.readText(),
      );
      assert.equal(clipboard, firstSecret);

      await page.getByRole('button', { name: 'I have saved it' }).click();
      assert.equal(await secretBox().isVisible(), false);
      assert.ok(!(await page.content()).includes(firstSecret), 'the secret has left the page');
      // Listed after a reload, the secret nowhere.
      await page.reload();
      await page.locator(`[data-client-id="${clientId}"]`).waitFor();
      assert.ok(!(await page.content()).includes(firstSecret));
    });

    it('lists a public client without a secret', async () => {
      await page.getByRole('button', { name: 'Register a client' }).click();
      await page.getByLabel('Name', { exact: true }).fill('Phone app');
      await page.getByLabel('Redirect URIs', { exact: true }).fill('http://127.0.0.1/phone');
      await page.getByRole('button', { name: 'Register client' }).click();
      await secretBox().waitFor();
      assert.equal(await page.getByText('Copy the client secret now.').isVisible(), false);
      const id = await text(page.locator('[data-secret-id]'));
      const row = page.locator(`[data-client-id="${id}"]`);
      await row.waitFor();
      assert.match(await text(row), /Public/);
      assert.equal(await row.getByRole('button', { name: /Rotate/ }).count(), 0);
      await page.getByRole('button', { name: 'I have saved it' }).click();
    });

    it('rotates the secret after confirmation: the new one is shown once, the old one is dead', async () => {
      const rotate = page.getByRole('button', { name: 'Rotate the secret of Print <Shop> & Co' });
      await rotate.click();
      await dialog().getByRole('button', { name: 'Cancel' }).click();
      assert.equal(await secretBox().isVisible(), false);
      const s = server.app.services;
      assert.ok(await verifyClientSecret(s, clientId, firstSecret), 'cancel changes nothing');

      await rotate.click();
      await dialog().getByRole('button', { name: 'Rotate secret' }).click();
      await secretBox().waitFor();
      const second = await text(page.locator('[data-secret-value]'));
      assert.ok(second.length >= 32 && second !== firstSecret);
      assert.equal(await text(page.locator('[data-secret-id]')), clientId);
      assert.equal(
        await verifyClientSecret(s, clientId, firstSecret),
        undefined,
        'old secret dead',
      );
      assert.equal((await verifyClientSecret(s, clientId, second))?.clientId, clientId);
      await page
        .locator('[data-audit]')
        .getByText('client.secret_rotate', { exact: true })
        .waitFor();
      await page.getByRole('button', { name: 'I have saved it' }).click();
    });

    it('deletes a client after confirmation', async () => {
      await page.getByRole('button', { name: 'Delete Print <Shop> & Co' }).click();
      await dialog().getByRole('button', { name: 'Delete client' }).click();
      await page.getByText('Print <Shop> & Co has been deleted.').waitFor();
      assert.equal(await page.locator(`[data-client-id="${clientId}"]`).count(), 0);
      await assert.rejects(getClient(server.app.services, clientId));
      await page.locator('[data-audit]').getByText('client.delete', { exact: true }).waitFor();
      await page.reload();
      await page.locator('[data-clients][aria-busy="false"]').waitFor();
      assert.equal(await page.locator(`[data-client-id="${clientId}"]`).count(), 0);
      assert.equal(await rows().count(), 1);
    });

    it('pages through many clients with Load more', async () => {
      for (let i = 0; i < 21; i += 1) {
        await createClient(
          server.app.services,
          {
            name: `Bulk ${String(i).padStart(2, '0')}`,
            redirect_uris: ['https://bulk.example/cb'],
          },
          bossId,
        );
      }
      await page.reload();
      await page.locator('[data-clients][aria-busy="false"]').waitFor();
      assert.equal(await rows().count(), 20);
      await page.getByRole('button', { name: 'Load more clients' }).click();
      // The phone app and 21 more: 20 on the first page, 2 on the next.
      await rows().nth(21).waitFor();
      assert.equal(await rows().count(), 22);
      assert.equal(
        await page.getByRole('button', { name: 'Load more clients' }).isVisible(),
        false,
      );
    });
  });
}
