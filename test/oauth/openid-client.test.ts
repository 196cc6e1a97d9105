// The code flow end to end with real third-party clients and nothing hand-written on the client
// side: openid-client v6 discovers the server, builds the authorization URL with PKCE, exchanges the
// code (validating the ID token itself), fetches userinfo, refreshes, gets a client_credentials
// token and builds the end-session URL; oauth4webapi validates a code-flow access token as a
// resource server would (RFC 9068). The sign-in and consent steps run in Chromium through the real
// pages; the redirect URI is a listener of the test.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import { claimsOf, headerOf } from '../support/fixtures.ts';
import {
  type Listener,
  listener,
  makeUser,
  type OAuthWorld,
  oauthWorld,
  type RegisteredClient,
  registerClient,
  signInOnPage,
} from '../support/oauth.ts';
import { testDatabases } from '../support/postgres.ts';

for (const db of testDatabases()) {
  describe(`the OpenID Connect provider with openid-client and oauth4webapi, on ${db}`, () => {
    let world: OAuthWorld;
    let browser: Browser;
    let app: Listener;
    let registered: RegisteredClient;
    let config: oidc.Configuration;

    before(async () => {
      world = await oauthWorld(db);
      browser = await launchChromium();
      app = await listener();
      registered = await registerClient(world, {
        name: 'Notes <app> & co',
        redirect_uris: [`${app.base}/cb`],
        post_logout_redirect_uris: [`${app.base}/bye`],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        scope: 'openid profile email offline_access read write',
        token_endpoint_auth_method: 'client_secret_basic',
      });
      config = await oidc.discovery(
        new URL(world.issuer),
        registered.client_id,
        undefined,
        oidc.ClientSecretBasic(registered.client_secret as string),
        { execute: [oidc.allowInsecureRequests] },
      );
    });
    after(async () => {
      await browser?.close();
      await app?.close();
      await world?.close();
    });

    it('discovery: the OpenID document names every endpoint and capability clients rely on', () => {
      const m = config.serverMetadata();
      assert.equal(m.issuer, world.issuer);
      assert.equal(m.authorization_endpoint, `${world.issuer}/authorize`);
      assert.equal(m.userinfo_endpoint, `${world.issuer}/userinfo`);
      assert.equal(m.end_session_endpoint, `${world.issuer}/logout`);
      assert.deepEqual(m.response_types_supported, ['code']);
      assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
      assert.ok(m.id_token_signing_alg_values_supported?.includes('RS256'));
      assert.ok(m.id_token_signing_alg_values_supported?.includes('ES256'));
      assert.equal(m.authorization_response_iss_parameter_supported, true);
      for (const scope of ['openid', 'profile', 'email', 'offline_access', 'read'])
        assert.ok(m.scopes_supported?.includes(scope), scope);
    });

    it('sign in, consent, code exchange, userinfo, a resource server’s check, refresh, client credentials and logout', async () => {
      const alice = await makeUser(world, 'alice');
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const authorizationUrl = oidc.buildAuthorizationUrl(config, {
        redirect_uri: `${app.base}/cb`,
        scope: 'openid profile email offline_access read',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      const context = await browser.newContext();
      const page = await context.newPage();
      const callback = app.next('/cb');
      await page.goto(authorizationUrl.href);
      await signInOnPage(page, alice.username, alice.password);
      // The consent page names the app (escaped) and says what each scope allows.
      await page.waitForURL(/\/authorize\?/);
      assert.match(
        (await page.locator('h1').textContent()) ?? '',
        /Notes <app> & co wants to access/,
      );
      const scopeText = (await page.locator('.scope-list').textContent()) ?? '';
      assert.match(scopeText, /email/i);
      await page.click('button[value="allow"]');
      const returned = await callback;
      assert.equal(returned.searchParams.get('iss'), world.issuer);

      const tokens = await oidc.authorizationCodeGrant(config, returned, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      assert.ok(claims);
      assert.equal(claims.sub, alice.id);
      assert.equal(claims.aud, registered.client_id);
      assert.equal(claims.email, alice.email);
      assert.equal(claims.email_verified, true);
      assert.equal(claims.preferred_username, alice.username);
      assert.equal(typeof claims.auth_time, 'number');
      assert.equal(typeof claims.updated_at, 'number');
      assert.equal(headerOf(tokens.id_token as string).alg, 'RS256');
      assert.equal(headerOf(tokens.id_token as string).typ, 'JWT');
      assert.ok(tokens.refresh_token, 'offline_access was granted: a refresh token');
      const access = claimsOf(tokens.access_token);
      assert.equal(headerOf(tokens.access_token).typ, 'at+jwt');
      assert.equal(access.client_id, registered.client_id);
      assert.equal(access.sid, claims.sid);

      const info = await oidc.fetchUserInfo(config, tokens.access_token, alice.id);
      assert.equal(info.sub, alice.id);
      assert.equal(info.email, alice.email);
      assert.equal(info.preferred_username, alice.username);

      // A resource server validating the code-flow token per RFC 9068 with oauth4webapi.
      const as = config.serverMetadata() as oauth.AuthorizationServer;
      const request = new Request('https://api.example/notes', {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      const validated = await oauth.validateJwtAccessToken(
        as,
        request,
        world.server.config.audience,
        {
          [oauth.allowInsecureRequests]: true,
        },
      );
      assert.equal(validated.sub, alice.id);
      assert.equal(validated.client_id, registered.client_id);
      // The §3 API accepts it: one token system.
      const me = await world.api.get('/users/me', { token: tokens.access_token });
      assert.equal(me.status, 200);
      assert.equal(me.body.id, alice.id);

      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token as string);
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
      assert.equal(refreshed.claims()?.sub, alice.id);
      assert.equal(refreshed.claims()?.auth_time, claims.auth_time);
      // Rotation as in §3: inside the grace window the spent token yields the same successor...
      const racing = await world.api.post(
        '/token',
        { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string },
        { form: true, headers: basic(registered) },
      );
      assert.equal(racing.status, 200);
      assert.equal(racing.body.refresh_token, refreshed.refresh_token);
      // ...and the same token presented by another client gets nothing.
      const other = await registerClient(world, {
        name: 'Other',
        redirect_uris: [`${app.base}/other`],
        token_endpoint_auth_method: 'client_secret_post',
      });
      const stolen = await world.api.post(
        '/token',
        {
          grant_type: 'refresh_token',
          refresh_token: refreshed.refresh_token as string,
          client_id: other.client_id,
          client_secret: other.client_secret as string,
        },
        { form: true },
      );
      assert.equal(stolen.status, 400);
      assert.equal(stolen.body.error, 'invalid_grant');

      const machine = await oidc.clientCredentialsGrant(config, { scope: 'read' });
      assert.equal(claimsOf(machine.access_token).sub, registered.client_id);
      assert.equal(machine.refresh_token, undefined);

      // RP-initiated logout with the ID token as hint: no confirmation, back to the app with state.
      const bye = app.next('/bye');
      const endSession = oidc.buildEndSessionUrl(config, {
        id_token_hint: refreshed.id_token as string,
        post_logout_redirect_uri: `${app.base}/bye`,
        state: 'see-you',
      });
      await page.goto(endSession.href);
      assert.equal((await bye).searchParams.get('state'), 'see-you');
      const after = await world.api.get('/users/me', { token: refreshed.access_token });
      assert.equal(after.status, 401, 'the app’s session ended with the logout');
      const dead = await world.api.post(
        '/token',
        { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token as string },
        { form: true, headers: basic(registered) },
      );
      assert.equal(dead.body.error, 'invalid_grant', 'its refresh token too');
      // The browser's own session ended as well: the next /authorize asks for the password.
      await page.goto(authorizationUrl.href);
      await page.waitForURL(/\/login\?/);
      await context.close();
    });

    it('ES256 ID tokens on request (id_token_signed_response_alg), from a key the JWKS publishes', async () => {
      const carol = await makeUser(world, 'carol');
      const es = await registerClient(world, {
        name: 'EC app',
        redirect_uris: [`${app.base}/es`],
        scope: 'openid email',
        id_token_signed_response_alg: 'ES256',
        first_party: true,
      });
      const esConfig = await oidc.discovery(
        new URL(world.issuer),
        es.client_id,
        { id_token_signed_response_alg: 'ES256' },
        oidc.None(),
        { execute: [oidc.allowInsecureRequests] },
      );
      const verifier = oidc.randomPKCECodeVerifier();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(esConfig, {
        redirect_uri: `${app.base}/es`,
        scope: 'openid email',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        nonce,
        login_hint: carol.email,
      });
      const context = await browser.newContext();
      const page = await context.newPage();
      const callback = app.next('/es');
      await page.goto(url.href);
      await page.waitForURL(/\/login\?/);
      // login_hint prefills the sign-in form.
      await page.waitForFunction(
        (selector) =>
          // biome-ignore lint/suspicious/noExplicitAny: runs in the page, typed by the browser.
          ((globalThis as any).document.querySelector(selector)?.value ?? '') !== '',
        '#username',
      );
      assert.equal(await page.inputValue('#username'), carol.email);
      await signInOnPage(page, carol.username, carol.password);
      const tokens = await oidc.authorizationCodeGrant(esConfig, await callback, {
        pkceCodeVerifier: verifier,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
      const header = headerOf(tokens.id_token as string);
      assert.equal(header.alg, 'ES256');
      const jwks = await world.api.get<{ keys: Array<{ kid: string; alg: string }> }>(
        '/.well-known/jwks.json',
      );
      assert.ok(jwks.body.keys.some((k) => k.kid === header.kid && k.alg === 'ES256'));
      assert.ok(
        jwks.body.keys.some((k) => k.alg === 'RS256'),
        'the RS256 key is published too',
      );
      assert.equal(tokens.claims()?.email, carol.email);
      assert.ok(
        tokens.refresh_token,
        'first-party with the refresh grant: a refresh token without offline_access',
      );
      await context.close();
    });

    it('an app on another site sends a signed-in user to /authorize: the SameSite=Strict cookies still sign them in, no password typed', async () => {
      const dave = await makeUser(world, 'dave');
      const context = await browser.newContext();
      const page = await context.newPage();
      // Signed in on Portcullis first (its own page).
      await page.goto(`${world.issuer}/login`);
      await page.fill('#username', dave.username);
      await page.fill('#password', dave.password);
      await page.click('button[type="submit"]');
      await page.waitForURL(`${world.issuer}/`);
      const verifier = oidc.randomPKCECodeVerifier();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: `${app.base}/cb`,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: 'cross',
      });
      // localhost and 127.0.0.1 are different sites: a link on the app's page is a cross-site
      // navigation, on which the browser withholds Strict cookies.
      const site = await crossSitePage(url.href);
      const callback = app.next('/cb');
      await page.goto(site.url);
      await page.click('a#sign-in');
      // Consent for this third-party app (not yet given by dave), then back with a code.
      await page.waitForSelector('button[value="allow"]');
      await page.click('button[value="allow"]');
      const tokens = await oidc.authorizationCodeGrant(config, await callback, {
        pkceCodeVerifier: verifier,
        expectedState: 'cross',
      });
      assert.equal(tokens.claims()?.sub, dave.id);
      await site.close();
      await context.close();
    });

    it('a remembered consent is not asked again; prompt=none then answers with a code', async () => {
      const bob = await makeUser(world, 'bob');
      const context = await browser.newContext();
      const page = await context.newPage();
      const run = async (extra: Record<string, string>, signIn: boolean, consent: boolean) => {
        const verifier = oidc.randomPKCECodeVerifier();
        const url = oidc.buildAuthorizationUrl(config, {
          redirect_uri: `${app.base}/cb`,
          scope: 'openid profile',
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state: 'st',
          ...extra,
        });
        const callback = app.next('/cb');
        await page.goto(url.href);
        if (signIn) await signInOnPage(page, bob.username, bob.password);
        if (consent) {
          await page.waitForSelector('button[value="allow"]');
          await page.click('button[value="allow"]');
        }
        const back = await callback;
        return oidc.authorizationCodeGrant(config, back, {
          pkceCodeVerifier: verifier,
          expectedState: 'st',
        });
      };
      const first = await run({}, true, true);
      assert.equal(
        first.refresh_token,
        undefined,
        'no offline_access, not first-party: no refresh token',
      );
      const second = await run({}, false, false);
      assert.equal(second.claims()?.sub, bob.id);
      const silent = await run({ prompt: 'none' }, false, false);
      assert.equal(silent.claims()?.sub, bob.id);
      await context.close();
    });
  });
}

/** A page on http://localhost (another site than the 127.0.0.1 server) with one link. */
async function crossSitePage(href: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    const escaped = href.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>App</title><a id="sign-in" href="${escaped}">Sign in</a>`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}/`,
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

function basic(c: RegisteredClient): Record<string, string> {
  const pair = `${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret as string)}`;
  return { authorization: `Basic ${Buffer.from(pair).toString('base64')}` };
}
