// The API at a glance: every route, its guard (who may call) and rate-limit budget, and where its
// schemas and handler are (side by side in the group files). /docs and /openapi.json are served by
// server/app.ts from these schemas.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../auth/services.ts';
import type { Metrics } from '../../metrics/index.ts';
import type { Guards } from '../authenticate.ts';
import { metricsRoute } from '../metrics.ts';
import { router } from '../route.ts';
import * as account from './account.ts';
import * as mail from './account-mail.ts';
import * as admin from './admin.ts';
import * as apps from './apps.ts';
import * as audit from './audit.ts';
import * as authorize from './authorize.ts';
import * as browser from './browser.ts';
import * as clients from './clients.ts';
import * as idp from './identity-providers.ts';
import * as oauth from './oauth.ts';
import * as pages from './pages.ts';
import * as passkeys from './passkeys.ts';
import * as totp from './totp.ts';
import * as wellKnown from './well-known.ts';

export async function routes(
  app: FastifyInstance,
  opts: { services: Services; guards: Guards; metrics: Metrics },
): Promise<void> {
  const { user, admin: superuser } = opts.guards;
  const none = {};

  // OAuth: form bodies too, and errors as RFC 6749 §5.2 bodies rather than problem details.
  await app.register(async (scope) => {
    oauth.oauthContext(scope);
    const r = router(scope, opts.services);
    r.post('/token', { limit: 'token' }, oauth.token);
    r.post('/revoke', none, oauth.revoke);
    r.post('/introspect', { guard: superuser }, oauth.introspect);
    r.get('/userinfo', none, oauth.userinfo);
    r.post('/userinfo', none, oauth.userinfo);
  });

  // The provider's browser side: HTML pages and redirects (form bodies accepted).
  await app.register(async (scope) => {
    authorize.browserContext(scope);
    const r = router(scope, opts.services);
    r.get('/authorize', { limit: 'authorize' }, authorize.authorize);
    r.post('/authorize', { limit: 'authorize' }, authorize.authorize);
    r.post('/authorize/decision', { limit: 'authorize' }, authorize.consentDecision);
    r.get('/logout', { limit: 'authorize' }, authorize.endSession);
    r.post('/logout/confirm', { limit: 'authorize' }, authorize.confirmLogout);
  });

  // Sign in with other identity providers (SPEC §9): redirects and HTML pages.
  await app.register(async (scope) => {
    idp.providerPages(scope);
    const r = router(scope, opts.services);
    r.get('/auth/:name/start', { limit: 'login' }, idp.start);
    r.get('/auth/:name/callback', { limit: 'login' }, idp.callback);
  });

  const r = router(app, opts.services);
  // Discovery and health.
  r.get('/.well-known/jwks.json', none, wellKnown.jwks);
  r.get('/.well-known/oauth-authorization-server', none, wellKnown.metadata);
  r.get('/.well-known/openid-configuration', none, wellKnown.metadata);
  r.get('/healthz', none, wellKnown.liveness);
  r.get('/readyz', none, wellKnown.readiness);
  r.get('/metrics', none, metricsRoute(opts.metrics));

  // Mailed links: password reset and email verification.
  r.post('/password/forgot', { limit: 'password' }, mail.forgotPassword);
  r.post('/password/reset', { limit: 'password' }, mail.resetPassword);
  r.post('/verify/request', { guard: user, limit: 'password' }, mail.requestVerificationMail);
  r.post('/verify', { limit: 'password' }, mail.verify);

  // Two-factor authentication of the signed-in user.
  r.get('/users/me/totp', { guard: user, limit: 'totp' }, totp.status);
  r.post('/users/me/totp', { guard: user, limit: 'totp' }, totp.enrol);
  r.post('/users/me/totp/confirm', { guard: user, limit: 'totp' }, totp.confirm);
  r.delete('/users/me/totp', { guard: user, limit: 'totp' }, totp.disable);

  // Passkeys (WebAuthn): the ceremonies, and the signed-in user's list.
  r.post('/webauthn/register/options', { guard: user, limit: 'passkey' }, passkeys.registerOptions);
  r.post('/webauthn/register', { guard: user, limit: 'passkey' }, passkeys.register);
  r.post('/webauthn/login/options', { limit: 'passkey' }, passkeys.loginOptions);
  r.post('/webauthn/login', { limit: 'passkey' }, passkeys.login);
  r.get('/users/me/passkeys', { guard: user }, passkeys.list);
  r.patch('/users/me/passkeys/:id', { guard: user }, passkeys.rename);
  r.delete('/users/me/passkeys/:id', { guard: user }, passkeys.remove);

  // Accounts and sessions.
  r.post('/register', { limit: 'register' }, account.register);
  r.post('/refresh', { limit: 'refresh' }, browser.refreshTokens);
  r.post('/logout', { guard: user }, account.logout);
  r.get('/users/me', { guard: user }, account.me);
  r.patch('/users/me', { guard: user }, account.updateMe);
  r.delete('/users/me', { guard: user }, account.deleteMe);
  r.post('/users/me/password', { guard: user }, account.newPassword);
  r.get('/users/me/sessions', { guard: user }, account.sessions);
  r.delete('/users/me/sessions', { guard: user }, account.endOthers);
  r.delete('/users/me/sessions/:id', { guard: user }, account.endSession);
  r.get('/users/me/apps', { guard: user }, apps.list);
  r.delete('/users/me/apps/:client_id', { guard: user }, apps.revoke);
  r.get('/users/me/identities', { guard: user }, idp.identities);
  r.delete('/users/me/identities/:name', { guard: user }, idp.unlink);
  r.get('/users/:username', { guard: user }, account.user);

  // Administration (superusers).
  r.get('/admin/users', { guard: superuser }, admin.listUsers);
  r.patch('/admin/users/:id', { guard: superuser }, admin.updateUser);
  r.delete('/admin/users/:id/sessions', { guard: superuser }, admin.endSessions);
  r.delete('/admin/users/:id', { guard: superuser }, admin.deleteUser);
  r.get('/admin/audit', { guard: superuser }, audit.auditLog);
  r.get('/admin/clients', { guard: superuser }, clients.list);
  r.post('/admin/clients', { guard: superuser }, clients.create);
  r.get('/admin/clients/:client_id', { guard: superuser }, clients.show);
  r.patch('/admin/clients/:client_id', { guard: superuser }, clients.update);
  r.delete('/admin/clients/:client_id', { guard: superuser }, clients.remove);
  r.post('/admin/clients/:client_id/secret', { guard: superuser }, clients.rotateSecret);

  // Cookie mode for the web pages (the CSRF checks are in the handlers and the guard).
  r.post('/login', { limit: 'login' }, browser.login);
  r.post('/session/refresh', { limit: 'refresh' }, browser.sessionRefresh);
  r.post('/password/check', none, browser.passwordCheck);
  r.get('/auth/providers', none, idp.providers);
  r.post('/auth/second-factor', { limit: 'totp' }, idp.secondFactor);

  // The web pages and their assets (hidden from the API document).
  await app.register(pages.assets);
  await app.register(pages.vendorAssets);
  for (const [path, file] of Object.entries(pages.PAGES)) r.get(path, none, pages.page(path, file));
}
