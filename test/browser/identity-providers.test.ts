// Sign in with another identity provider (SPEC §9), end to end in Chromium against a REAL OpenID
// Connect provider on loopback (panva's oidc-provider with its own development login and consent
// pages, test/support/oidc-provider.ts): our /login → the provider → our callback and back. The
// provider runs on `localhost` and Portcullis on 127.0.0.1, so the provider's redirect is a
// cross-site navigation, as it is in production.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { register } from '../../src/auth/accounts/index.ts';
import { createClient } from '../../src/auth/clients/index.ts';
import { confirmTotp, startTotpEnrolment } from '../../src/auth/second-factor/index.ts';
import { launchChromium, screenshot } from '../support/browser.ts';
import { newIdentity } from '../support/http.ts';
import { listener } from '../support/oauth.ts';
import { freePort, startOidcProvider, type TestProvider } from '../support/oidc-provider.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { base32Decode, totp } from '../support/totp.ts';

const LABEL = 'Sign in with Corp SSO';
const NAME = 'Corp SSO';

for (const db of testDatabases()) {
  describe(`sign-in with an OpenID provider, in Chromium on ${db}`, () => {
    let server: TestServer;
    let provider: TestProvider;
    let browser: Browser;
    let base: string;
    const contexts: BrowserContext[] = [];
    const problems: string[] = [];

    before(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      provider = await startOidcProvider({
        clientId: 'portcullis-test',
        clientSecret: 'provider-client-secret',
        redirectUris: [`${base}/auth/corp/callback`],
      });
      // `down` names a provider that never answers: the server starts anyway.
      const dead = await freePort();
      server = await startServer({
        db,
        port,
        env: {
          PUBLIC_URL: base,
          IDENTITY_PROVIDERS: 'corp,down',
          IDP_CORP_ISSUER: provider.issuer,
          IDP_CORP_CLIENT_ID: 'portcullis-test',
          IDP_CORP_CLIENT_SECRET: 'provider-client-secret',
          IDP_CORP_LABEL: LABEL,
          IDP_DOWN_ISSUER: `http://127.0.0.1:${dead}`,
          IDP_DOWN_CLIENT_ID: 'nobody',
          IDP_DOWN_LABEL: 'Sign in with Down',
        },
      });
      browser = await launchChromium();
    });
    after(async () => {
      for (const context of contexts) await context.close();
      await browser?.close();
      await server?.close();
      await provider?.close();
      assert.deepEqual(problems, [], 'no CSP violation and no script error on our pages');
    });

    /** A fresh browser profile: no session here, none at the provider. */
    async function freshDevice(): Promise<Page> {
      const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'UTC' });
      context.setDefaultTimeout(15_000);
      // The development login page of oidc-provider imports a web font: no network here.
      await context.route(/fonts\.googleapis\.com/, (route) => route.abort());
      contexts.push(context);
      const page = await context.newPage();
      page.on('console', (message) => {
        if (
          new URL(page.url()).host === new URL(base).host &&
          /Content Security/i.test(message.text())
        )
          problems.push(message.text());
      });
      page.on('pageerror', (error) => {
        if (new URL(page.url()).host === new URL(base).host) problems.push(error.message);
      });
      return page;
    }

    /** The provider's own pages: its login form (any password) and, the first time, consent. */
    async function atProvider(page: Page, sub: string): Promise<void> {
      await page.waitForURL((url) => url.origin === provider.issuer);
      await page.locator('input[name="login"]').fill(sub);
      await page.locator('input[name="password"]').fill('anything');
      await page.locator('button[type="submit"]').click();
      const consent = page.getByRole('button', { name: 'Continue' });
      await page.waitForURL(
        (url) => url.origin !== provider.issuer || url.pathname.includes('interaction'),
      );
      if (new URL(page.url()).origin === provider.issuer) await consent.click();
    }

    async function me(page: Page): Promise<Record<string, unknown> | null> {
      return page.evaluate(async () => {
        const response = await fetch('/users/me', { credentials: 'same-origin' });
        return response.ok ? ((await response.json()) as Record<string, unknown>) : null;
      });
    }

    async function signInThroughLogin(page: Page, sub: string, next?: string): Promise<void> {
      const query = next ? `?next=${encodeURIComponent(next)}` : '';
      await page.goto(`${base}/login${query}`);
      await page.getByRole('link', { name: LABEL }).click();
      await atProvider(page, sub);
    }

    it('makes a new account on the first sign-in, verified as the provider says, and the same account the next time', async () => {
      provider.accounts.set('alice-sub', {
        email: 'alice@corp.example',
        email_verified: true,
        preferred_username: 'alice',
      });
      const page = await freshDevice();
      await signInThroughLogin(page, 'alice-sub', '/account');
      await page.waitForURL(`${base}/account`);
      await page.getByRole('heading', { name: 'Sign-in providers' }).waitFor();
      await page.locator('[data-identity="corp"]').waitFor();
      await screenshot(page, 'identity-providers-account');
      const user = await me(page);
      assert.equal(user?.email, 'alice@corp.example');
      assert.equal(user?.username, 'alice');
      assert.equal(user?.is_verified, true);
      const stored = await server.app.services.store.users.findById(String(user?.id));
      assert.equal(
        stored?.hasPassword,
        false,
        'an account made through a provider has no password',
      );

      // Another browser, the same identity: the same account, no second one.
      const again = await freshDevice();
      await signInThroughLogin(again, 'alice-sub');
      await again.waitForURL(`${base}/`);
      assert.equal((await me(again))?.id, user?.id);
      const audit = await server.app.services.store.audit.list({ limit: 200 });
      const types = audit.map((e) => e.type);
      assert.ok(types.includes('identity.link'));
      assert.ok(
        audit.some((e) => e.type === 'login.success' && JSON.parse(e.details).provider === 'corp'),
        'a sign-in through a provider is audited as one',
      );

      // Its only way in is the provider: the password grant refuses, as for a wrong password.
      const grant = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: 'alice', password: 'whatever it may be' }),
      });
      assert.equal(grant.status, 400);
      assert.equal(((await grant.json()) as { error: string }).error, 'invalid_grant');
      // And unlinking that only way in is refused.
      const unlink = await again.evaluate(async () => {
        const { cookie } = (globalThis as unknown as { document: { cookie: string } }).document;
        const csrf = cookie.match(/__Host-portcullis_csrf=([^;]+)/)?.[1] ?? '';
        const response = await fetch('/users/me/identities/corp', {
          method: 'DELETE',
          headers: { 'x-csrf-token': csrf },
          credentials: 'same-origin',
        });
        return { status: response.status, body: (await response.json()) as { code: string } };
      });
      assert.equal(unlink.status, 409);
      assert.equal(unlink.body.code, 'last_sign_in_method');
    });

    it('does not take the provider’s word for an address it calls unverified', async () => {
      provider.accounts.set('dave-sub', { email: 'dave@corp.example', email_verified: false });
      const page = await freshDevice();
      await signInThroughLogin(page, 'dave-sub');
      await page.waitForURL(`${base}/`);
      const user = await me(page);
      assert.equal(user?.email, 'dave@corp.example');
      assert.equal(user?.is_verified, false);
      // No preferred_username: the address's local part.
      assert.equal(user?.username, 'dave');
    });

    it('links from /account to a password account, signs in with the link, and unlinks', async () => {
      const who = newIdentity('linker');
      await register(server.app.services, who);
      provider.accounts.set('bob-sub', {
        email: 'bob.elsewhere@corp.example',
        email_verified: true,
      });
      const page = await freshDevice();
      await page.goto(`${base}/login`);
      await page.getByLabel('Username or email').fill(who.username);
      await page.getByLabel('Password', { exact: true }).fill(who.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(`${base}/`);
      await page.goto(`${base}/account`);
      await page.getByRole('link', { name: `Link ${NAME}` }).click();
      await atProvider(page, 'bob-sub');
      await page.waitForURL(`${base}/account`);
      await page.locator('[data-identity="corp"]').waitFor();
      assert.match(
        (await page.locator('[data-identity="corp"]').textContent()) ?? '',
        /bob\.elsewhere@corp\.example/,
      );

      // Signing in with the provider now opens this account.
      const other = await freshDevice();
      await signInThroughLogin(other, 'bob-sub');
      await other.waitForURL(`${base}/`);
      assert.equal((await me(other))?.username, who.username);

      // It has a password, so the identity can go.
      await page.getByRole('button', { name: `Unlink ${NAME}` }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Unlink' }).click();
      await page.getByRole('link', { name: `Link ${NAME}` }).waitFor();
      assert.deepEqual(
        await server.app.services.store.identities.listForUser(String((await me(page))?.id)),
        [],
      );
      const types = (await server.app.services.store.audit.list({ limit: 500 })).map((e) => e.type);
      assert.ok(types.includes('identity.unlink'));
    });

    it('still asks a user with 2FA for the code, then goes where the sign-in was going', async () => {
      provider.accounts.set('erin-sub', { email: 'erin@corp.example', email_verified: true });
      const first = await freshDevice();
      await signInThroughLogin(first, 'erin-sub');
      await first.waitForURL(`${base}/`);
      const s = server.app.services;
      const user = await s.store.users.findById(String((await me(first))?.id));
      assert.ok(user);
      const { secret } = await startTotpEnrolment(s, user);
      const key = base32Decode(secret);
      await confirmTotp(s, user, totp(key, s.clock()), 'no-session');

      const page = await freshDevice();
      await signInThroughLogin(page, 'erin-sub', '/account');
      await page.waitForURL((url) => url.pathname === '/auth/second-factor');
      assert.equal(await me(page), null, 'no session before the code');
      await screenshot(page, 'identity-providers-second-factor');
      await page.getByLabel('Authentication code').fill('000000');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page
        .getByRole('alert')
        .filter({ hasText: /code|incorrect|invalid/i })
        .waitFor();
      assert.equal(await me(page), null, 'a wrong code signs nobody in');
      await page.getByLabel('Authentication code').fill(totp(key, s.clock() + 30_000));
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${base}/account`);
      assert.equal((await me(page))?.id, user.id);
    });

    it('refuses a deactivated user', async () => {
      provider.accounts.set('frank-sub', { email: 'frank@corp.example', email_verified: true });
      const first = await freshDevice();
      await signInThroughLogin(first, 'frank-sub');
      await first.waitForURL(`${base}/`);
      const id = String((await me(first))?.id);
      await server.app.services.store.users.update(id, { isActive: false }, Date.now());
      const page = await freshDevice();
      await signInThroughLogin(page, 'frank-sub');
      await page.getByRole('heading', { name: 'This account is disabled' }).waitFor();
      assert.equal(await me(page), null);
    });

    it('never links to an existing account by its email address', async () => {
      const who = newIdentity('owner');
      const owner = await register(server.app.services, { ...who, email: 'carol@corp.example' });
      provider.accounts.set('mallory-sub', { email: 'Carol@corp.example', email_verified: true });
      const before = await server.app.services.store.users.count();
      const page = await freshDevice();
      await signInThroughLogin(page, 'mallory-sub');
      await page
        .getByRole('heading', { name: 'An account with this email address already exists' })
        .waitFor();
      assert.match(
        (await page.locator('main').textContent()) ?? '',
        /link .* from your account page/i,
      );
      await screenshot(page, 'identity-providers-collision');
      assert.equal(await me(page), null);
      assert.equal(await server.app.services.store.users.count(), before, 'no second account');
      assert.deepEqual(await server.app.services.store.identities.listForUser(owner.id), []);
    });

    it('completes an app’s /authorize sign-in through the provider (SPEC §8)', async () => {
      const app = await listener();
      try {
        const { client } = await createClient(server.app.services, {
          name: 'Example app',
          redirect_uris: [`${app.base}/cb`],
          first_party: true,
        });
        provider.accounts.set('hank-sub', { email: 'hank@corp.example', email_verified: true });
        const query = new URLSearchParams({
          response_type: 'code',
          client_id: client.clientId,
          redirect_uri: `${app.base}/cb`,
          scope: 'openid profile',
          state: 'app-state',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
        });
        const page = await freshDevice();
        const arrived = app.next('/cb');
        await page.goto(`${base}/authorize?${query.toString()}`);
        await page.waitForURL((url) => url.pathname === '/login');
        await page.getByRole('link', { name: LABEL }).click();
        await atProvider(page, 'hank-sub');
        const back = await arrived;
        assert.equal(back.searchParams.get('state'), 'app-state');
        assert.ok(back.searchParams.get('code'), 'the app got a code');
      } finally {
        await app.close();
      }
    });

    it('ignores a next that leads to another site', async () => {
      provider.accounts.set('gina-sub', { email: 'gina@corp.example', email_verified: true });
      const page = await freshDevice();
      await page.goto(
        `${base}/auth/corp/start?next=${encodeURIComponent('https://evil.example/')}`,
      );
      await atProvider(page, 'gina-sub');
      await page.waitForURL(`${base}/`);
      assert.equal((await me(page))?.email, 'gina@corp.example');
    });

    it('shows a provider that cannot be reached as unavailable, and its start as a clear page', async () => {
      const page = await freshDevice();
      await page.goto(`${base}/login`);
      await page
        .getByRole('button', { name: 'Sign in with Down (unavailable right now)' })
        .waitFor();
      assert.equal(await page.getByRole('link', { name: LABEL }).count(), 1);
      await page.goto(`${base}/register`);
      await page.getByRole('link', { name: LABEL }).waitFor();
      const answer = await page.goto(`${base}/auth/down/start`);
      assert.equal(answer?.status(), 400);
      await page.getByRole('heading', { name: 'The provider cannot be reached' }).waitFor();
    });
  });
}
