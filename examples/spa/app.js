// The example single-page app: "Sign in with Portcullis" with the authorization code flow, PKCE
// (S256), state and nonce, done in the browser by oauth4webapi. No framework, no bundler.
//
// Where things are kept, and why:
// - The tokens (access, refresh, ID) live in this module's memory only, never in localStorage or
//   sessionStorage: nothing written to storage outlives the page, so a token cannot be read back
//   later by another script of this origin, a browser extension reading storage, or the next person
//   at a shared computer. A reload therefore forgets them; "Sign in" then comes straight back
//   without a password while the Portcullis session lasts (and consent is remembered).
// - The PKCE verifier, state and nonce of a sign-in in progress go to sessionStorage: the page is
//   unloaded while the user is at Portcullis, and they must survive until the callback. They are
//   single use, removed as soon as the callback reads them, and worthless without this tab.
import config from '/config.js';
import * as oauth from '/vendor/oauth4webapi.js';

const issuer = new URL(config.issuer);
// A public client: no secret (a browser cannot keep one); PKCE is what binds the code to us.
const client = { client_id: config.clientId, token_endpoint_auth_method: 'none' };
const clientAuth = oauth.None();
// Registered with Portcullis exactly (compared as a string): this page's own root.
const redirectUri = new URL('/', window.location.href).href;
// openid: an ID token and /userinfo; profile, email: their claims; offline_access: a refresh token;
// read, write: the API scopes the access token carries to /users/me.
const SCOPE = 'openid profile email offline_access read write';
// oauth4webapi refuses plain http; allowed here only for a Portcullis on this very machine.
const local = ['localhost', '127.0.0.1', '[::1]'].includes(issuer.hostname);
const http = issuer.protocol === 'http:' && local ? { [oauth.allowInsecureRequests]: true } : {};

const PENDING = 'example-spa:pending-sign-in';
const LOGOUT = 'example-spa:pending-sign-out';

/** The tokens of the signed-in user, in memory only (see above); null when signed out. */
let session = null;

const $ = (selector) => document.querySelector(selector);

function show(view) {
  for (const section of document.querySelectorAll('[data-view]'))
    section.hidden = section.dataset.view !== view;
}

function say(selector, text) {
  const box = $(selector);
  box.textContent = text ?? '';
  box.hidden = !text;
}

/** A readable message for what oauth4webapi or the network threw. */
function explain(error) {
  if (error instanceof oauth.AuthorizationResponseError)
    return `Portcullis did not sign you in: ${error.error_description || error.error}`;
  if (error instanceof oauth.ResponseBodyError)
    return `Portcullis refused: ${error.error_description || error.error}`;
  if (error instanceof oauth.WWWAuthenticateChallengeError)
    return `Portcullis refused the access token: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function take(key) {
  const value = sessionStorage.getItem(key);
  sessionStorage.removeItem(key);
  return value;
}

function facts(list, object) {
  list.replaceChildren();
  for (const [key, value] of Object.entries(object)) {
    const term = document.createElement('dt');
    term.textContent = key;
    const detail = document.createElement('dd');
    detail.textContent = Array.isArray(value) ? value.join(' ') : String(value);
    list.append(term, detail);
  }
}

/** Where Portcullis's endpoints are: its discovery document (OpenID Connect Discovery 1.0). */
async function discover() {
  const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...http });
  return oauth.processDiscoveryResponse(issuer, response);
}

/** Off to Portcullis's /authorize; the answer comes back to this page as ?code=…&state=…&iss=…. */
async function signIn(as) {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce }));
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('scope', SCOPE);
  // PKCE: only the hash leaves now; the verifier goes to /token, so a stolen code is useless.
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  // state ties the answer to this tab's request (CSRF); nonce ties the ID token to it (replay).
  url.searchParams.set('state', state);
  url.searchParams.set('nonce', nonce);
  window.location.assign(url.href);
}

/** Back from /authorize: check the answer, trade the code for tokens. */
async function callback(as, url) {
  const pending = JSON.parse(take(PENDING) ?? 'null');
  // The code must not stay in the address bar or the history once read.
  window.history.replaceState(null, '', url.pathname);
  if (pending === null) throw new Error('This sign-in was not started in this tab; sign in again.');
  // Checks state, and iss (RFC 9207: the answer comes from this Portcullis, not a mix-up).
  const params = oauth.validateAuthResponse(as, client, url, pending.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    clientAuth,
    params,
    redirectUri,
    pending.verifier,
    http,
  );
  // Validates the ID token's iss, aud, exp, iat and nonce. Its signature is not checked: it came
  // straight from the token endpoint over the connection we opened (OIDC Core §3.1.3.7).
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: pending.nonce,
    requireIdToken: true,
  });
  keep(result, oauth.getValidatedIdTokenClaims(result));
}

function keep(result, claims) {
  session = {
    accessToken: result.access_token,
    // Rotated on every refresh: the new one replaces the old, which is now spent.
    refreshToken: result.refresh_token ?? session?.refreshToken,
    idToken: result.id_token ?? session?.idToken,
    claims: claims ?? session?.claims,
    scope: result.scope ?? '',
    expiresAt: Date.now() + (result.expires_in ?? 0) * 1000,
  };
}

/** The user from /userinfo (OpenID Connect) and from Portcullis's own API, /users/me. */
async function showUser(as) {
  const info = await oauth.processUserInfoResponse(
    as,
    client,
    session.claims.sub, // the same user as the ID token, or refuse
    await oauth.userInfoRequest(as, client, session.accessToken, http),
  );
  const me = await oauth.protectedResourceRequest(
    session.accessToken,
    'GET',
    new URL('/users/me', issuer),
    new Headers({ accept: 'application/json' }),
    null,
    http,
  );
  if (!me.ok) throw new Error(`/users/me answered ${me.status}`);
  $('[data-field="name"]').textContent = info.preferred_username ?? info.sub;
  facts($('[data-userinfo]'), info);
  facts($('[data-me]'), await me.json());
  $('[data-field="scope"]').textContent = session.scope;
  $('[data-field="expires"]').textContent = new Date(session.expiresAt).toLocaleTimeString();
  show('signed-in');
}

/** A new access token (and a new refresh token: Portcullis rotates them) without a redirect. */
async function refresh(as) {
  const response = await oauth.refreshTokenGrantRequest(
    as,
    client,
    clientAuth,
    session.refreshToken,
    http,
  );
  const result = await oauth.processRefreshTokenResponse(as, client, response);
  keep(result, oauth.getValidatedIdTokenClaims(result));
  $('[data-field="refreshed"]').textContent = new Date().toLocaleTimeString();
  await showUser(as);
}

/** RP-initiated logout: Portcullis ends its session and this app's, then sends the user back. */
function signOut(as) {
  const state = oauth.generateRandomState();
  sessionStorage.setItem(LOGOUT, state);
  const url = new URL(as.end_session_endpoint);
  // The ID token says who is signing out of which app, so Portcullis need not ask to confirm.
  url.searchParams.set('id_token_hint', session.idToken);
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('post_logout_redirect_uri', redirectUri);
  url.searchParams.set('state', state);
  session = null;
  window.location.assign(url.href);
}

function wire(as) {
  const run = (action) => async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    say('[data-error]', '');
    say('[data-notice]', '');
    try {
      await action(as);
    } catch (error) {
      say('[data-error]', explain(error));
      // A refresh token that no longer works (signed out elsewhere, revoked): sign in again.
      if (error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant') {
        session = null;
        show('signed-out');
      }
    } finally {
      button.disabled = false;
    }
  };
  $('[data-action="sign-in"]').addEventListener('click', run(signIn));
  $('[data-action="refresh"]').addEventListener('click', run(refresh));
  $('[data-action="sign-out"]').addEventListener('click', run(signOut));
}

async function start() {
  $('[data-issuer]').textContent = `Portcullis: ${config.issuer}`;
  const as = await discover();
  wire(as);
  const url = new URL(window.location.href);
  if (url.searchParams.has('code') || url.searchParams.has('error')) {
    try {
      await callback(as, url);
      await showUser(as);
    } catch (error) {
      session = null;
      say('[data-error]', explain(error));
      show('signed-out');
    }
    return;
  }
  if (url.searchParams.has('state')) {
    // Back from the end-session endpoint: only our own sign-out carries the state we stored.
    window.history.replaceState(null, '', url.pathname);
    if (take(LOGOUT) === url.searchParams.get('state'))
      say('[data-notice]', 'You are signed out of Portcullis and of this app.');
  }
  show('signed-out');
}

start().catch((error) => {
  say('[data-error]', `Could not reach Portcullis at ${config.issuer}: ${explain(error)}`);
  show('signed-out');
});
