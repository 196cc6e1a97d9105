// End to end in Chromium: "Apps with access" on /account. The user lets two apps in through the real
// /authorize flow in the same browser (a first-party app, straight through; a third-party one, by
// the consent page), each redirect URI a listener of this test; both are listed with their scopes
// in words; Revoke signs the app out at once (its refresh token is refused at /token) and leaves
// the other app alone.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { type Device, launchChromium, newDevice, screenshot } from '../support/browser.ts';
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

const text = async (node: Locator): Promise<string> => ((await node.textContent()) ?? '').trim();

interface TokenAnswer {
  status: number;
  body: Record<string, string>;
}

for (const db of testDatabases()) {
  describe(`apps with access on /account, in Chromium on ${db}`, () => {
    let world: OAuthWorld;
    let browser: Browser;
    let device: Device;
    let page: Page;
    let app: Listener;
    let notes: RegisteredClient;
    let photos: RegisteredClient;
    const refreshTokens: Record<string, string> = {};

    before(async () => {
      world = await oauthWorld(db);
      app = await listener();
      notes = await registerClient(world, {
        name: 'Notes',
        redirect_uris: [`${app.base}/notes`],
        scope: 'openid profile offline_access read',
        first_party: true,
      });
      photos = await registerClient(world, {
        name: 'Photo <Print> & Co',
        redirect_uris: [`${app.base}/photos`],
        scope: 'openid email offline_access write',
        token_endpoint_auth_method: 'client_secret_basic',
      });
      browser = await launchChromium();
      device = await newDevice(browser, world.server.url);
      page = await device.page();
    });
    after(async () => {
      // Not device.close(): the apps' redirect URIs are listeners on another port, which its
      // same-server check would count as foreign; the checks that matter are made below.
      const foreign = device?.requests.filter(
        (url) => !url.startsWith(world.server.url) && !url.startsWith(app.base),
      );
      await device?.context.close();
      await browser?.close();
      await app?.close();
      await world?.close();
      assert.deepEqual(foreign, [], 'the pages contacted only the server and the apps');
      assert.deepEqual(device?.problems, [], 'no CSP violation and no script error');
    });

    const appRow = (client: RegisteredClient) =>
      page.locator(`[data-app-id="${client.client_id}"]`);

    async function token(
      form: Record<string, string>,
      client: RegisteredClient,
    ): Promise<TokenAnswer> {
      const headers: Record<string, string> = {
        'content-type': 'application/x-www-form-urlencoded',
      };
      if (client.client_secret) {
        const basic = `${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`;
        headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
      } else {
        form.client_id = client.client_id;
      }
      const answer = await fetch(`${world.server.url}/token`, {
        method: 'POST',
        headers,
        body: new URLSearchParams(form),
      });
      return { status: answer.status, body: (await answer.json()) as Record<string, string> };
    }

    /** The code flow in this browser, consenting on the page when asked; the refresh token kept. */
    async function letIn(client: RegisteredClient, path: string, scope: string): Promise<void> {
      const verifier = randomBytes(32).toString('base64url');
      const state = randomBytes(8).toString('hex');
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: `${app.base}${path}`,
        scope,
        state,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      });
      const callback = app.next(path);
      await page.goto(`${world.server.url}/authorize?${query}`);
      if (!client.first_party) {
        await page
          .getByRole('heading', { name: `${client.name} wants to access your Portcullis account` })
          .waitFor();
        await screenshot(page, 'consent');
        await page.getByRole('button', { name: 'Allow' }).click();
      }
      const returned = await callback;
      // The app's page has loaded before the browser goes anywhere else.
      await page.waitForURL((url) => url.href.startsWith(app.base));
      assert.equal(returned.searchParams.get('state'), state);
      const code = returned.searchParams.get('code');
      assert.ok(code, returned.href);
      const answer = await token(
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: `${app.base}${path}`,
          code_verifier: verifier,
        },
        client,
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.ok(answer.body.refresh_token);
      refreshTokens[client.client_id] = answer.body.refresh_token as string;
    }

    async function refreshes(client: RegisteredClient): Promise<TokenAnswer> {
      const answer = await token(
        { grant_type: 'refresh_token', refresh_token: refreshTokens[client.client_id] as string },
        client,
      );
      if (answer.status === 200)
        refreshTokens[client.client_id] = answer.body.refresh_token as string;
      return answer;
    }

    it('shows the empty state before any app is let in', async () => {
      const alice = await makeUser(world, 'alice');
      await page.goto(`${world.server.url}/login?next=%2Faccount`);
      await page.getByLabel('Username or email').fill(alice.username);
      await page.getByLabel('Password', { exact: true }).fill(alice.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${world.server.url}/account`);
      await page.getByRole('heading', { name: 'Apps with access' }).waitFor();
      await page.getByText('No apps have access to your account.').waitFor();
    });

    it('lists the apps let in through /authorize, with their scopes in words and last use', async () => {
      await letIn(notes, '/notes', 'openid profile offline_access read');
      await letIn(photos, '/photos', 'openid email offline_access write');
      await page.goto(`${world.server.url}/account`);
      await appRow(notes).waitFor();
      await appRow(photos).waitFor();
      assert.equal(await page.locator('[data-apps-list] > li').count(), 2);

      const first = await text(appRow(notes));
      assert.match(first, /Notes/);
      assert.match(first, /Portcullis app/);
      assert.match(first, /Sign you in with your Portcullis account/);
      assert.match(first, /See your username/);
      assert.match(first, /Read your data/);
      assert.match(first, /Last used/);
      const second = await text(appRow(photos));
      assert.match(second, /Photo <Print> & Co/);
      assert.match(second, /See your email address and whether it is verified/);
      assert.match(second, /Change your data/);
      assert.match(second, /Allowed /, 'the consent and when it was given');
      assert.doesNotMatch(second, /Portcullis app/);
      await screenshot(page, 'account-apps');
    });

    it('revokes an app after confirmation: gone from the list, its refresh token refused', async () => {
      const revoke = page.getByRole('button', { name: 'Revoke Notes' });
      await revoke.click();
      await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
      assert.equal((await refreshes(notes)).status, 200, 'cancel changes nothing');

      await revoke.click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke access' }).click();
      await page.getByText('Notes no longer has access to your account.').waitFor();
      await appRow(notes).waitFor({ state: 'detached' });
      await appRow(photos).waitFor();

      const refused = await refreshes(notes);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'invalid_grant');
      assert.equal((await refreshes(photos)).status, 200, 'the other app keeps its access');

      await page.reload();
      await appRow(photos).waitFor();
      assert.equal(await appRow(notes).count(), 0);
    });

    it('revokes the last app, and the consent with it: the page asks again', async () => {
      await page.getByRole('button', { name: 'Revoke Photo <Print> & Co' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke access' }).click();
      await page.getByText('No apps have access to your account.').waitFor();
      const refused = await refreshes(photos);
      assert.equal(refused.body.error, 'invalid_grant');
      // The consent is forgotten: the same request shows the consent page again.
      await letIn(photos, '/photos', 'openid email offline_access write');
      await page.goto(`${world.server.url}/account`);
      await appRow(photos).waitFor();
    });
  });
}
