// Sign in with other identity providers (SPEC §9): the start and the callback (browser redirects;
// every problem is an HTML page, never a 5xx for a provider's fault), the second-factor step that
// follows a provider sign-in for accounts with 2FA, the list of providers for the pages, and the
// signed-in user's linked identities.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  beginSignIn,
  completeProviderSignIn,
  FLOW_TTL_MS,
  FlowError,
  type FlowFailure,
  listIdentities,
  localPath,
  type ProviderOutcome,
  unlinkIdentity,
} from '../../auth/identity-providers/index.ts';
import { completeSecondFactor } from '../../auth/login/index.ts';
import { browserSignIn } from '../../auth/oauth/index.ts';
import type { Services } from '../../auth/services.ts';
import { AppError } from '../../errors/index.ts';
import { callerOf, clientInfo } from '../authenticate.ts';
import { COOKIE, cookieOf, setSessionCookies } from '../cookies.ts';
import { createCsrfTokens, requireSameOrigin } from '../csrf.ts';
import { toAppError } from '../errors.ts';
import { identityProblemPage } from '../oauth-pages.ts';
import { route } from '../route.ts';
import { errorResponses, ref, str } from '../schemas.ts';
import { sendSession } from './browser.ts';

const tags = ['identity providers'];
const security = [{ oauth2: [] }];
const time = { type: ['string', 'null'], format: 'date-time' } as const;
const htmlAnswer = { description: 'an HTML page', type: 'string' } as const;

// The flow cookie names this browser's pending sign-in. Lax, not Strict: it must come back with
// the provider's redirect, a top-level navigation from another site. HttpOnly: no script reads it.
export const FLOW_COOKIE = '__Host-portcullis_idp_flow';
// The mfa_token of a provider sign-in that still needs the second factor. Set on the provider's
// redirect (a navigation from another site), hence Lax; only the page's same-origin POST uses it.
export const MFA_COOKIE = '__Host-portcullis_idp_mfa';
const MFA_COOKIE_SECONDS = 5 * 60;

function flowCookie(reply: FastifyReply, value: string, maxAge: number): void {
  reply.setCookie(FLOW_COOKIE, value, {
    path: '/',
    secure: true,
    httpOnly: true,
    sameSite: 'lax',
    maxAge,
  });
}

function mfaCookie(reply: FastifyReply, value: string, maxAge: number): void {
  reply.setCookie(MFA_COOKIE, value, {
    path: '/',
    secure: true,
    httpOnly: true,
    sameSite: 'lax',
    maxAge,
  });
}

interface Problem {
  status: number;
  title: string;
  detail: string;
  reason: string;
  action?: string;
  actionHref?: string;
}

function page(reply: FastifyReply, provider: string, problem: Problem): FastifyReply {
  return reply
    .code(problem.status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(
      identityProblemPage({
        title: problem.title,
        provider,
        reason: problem.reason,
        detail: problem.detail,
        action: problem.action ?? 'Back to sign-in',
        actionHref: problem.actionHref ?? '/login',
      }),
    );
}

function redirect(reply: FastifyReply, location: string): FastifyReply {
  return reply.header('cache-control', 'no-store').redirect(location, 302);
}

/** The start and the callback: every error, the schema's included, as a page a person can read. */
export function providerPages(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const e = toAppError(error, request);
    if (e.status >= 500) request.log.error({ err: error }, 'request failed');
    const retry = e.extra.retryAfter;
    if (typeof retry === 'number') reply.header('retry-after', String(retry));
    const title = e.status === 429 ? 'Too many requests' : 'The sign-in did not work';
    return page(reply, 'the provider', {
      status: Math.min(e.status, 503),
      title,
      detail: e.message,
      reason: e.code,
    });
  });
}

// Every flow failure is the browser's or the provider's, never the server's: a 4xx page.
const FLOW_TITLES: Record<FlowFailure, string> = {
  missing_cookie: 'This sign-in was not started in this browser',
  unknown_flow: 'This sign-in has expired or was already used',
  state_mismatch: 'This sign-in could not be verified',
  provider_error: 'The provider did not sign you in',
  provider_unavailable: 'The provider cannot be reached',
  invalid_response: 'The provider’s answer could not be verified',
};

function flowProblem(error: FlowError, next: string): Problem {
  return {
    status: 400,
    title: FLOW_TITLES[error.reason],
    detail:
      error.reason === 'provider_unavailable'
        ? `${error.message} Try again in a few minutes, or sign in with your password.`
        : `${error.message} Start the sign-in again.`,
    reason: error.reason,
    actionHref: next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`,
  };
}

const unknownProvider = (name: string): Problem => ({
  status: 404,
  title: 'No such sign-in provider',
  detail: `“${name.slice(0, 32)}” is not a provider this server signs in with.`,
  reason: 'unknown_provider',
});

export const start = route<{
  Params: { name: string };
  Querystring: { next?: string; link?: string };
}>({
  schema: {
    tags,
    summary: 'Start a sign-in (or, with link=1 and a session, a link) at an identity provider',
    description:
      'Redirects to the provider with `state`, `nonce` and a PKCE S256 challenge; the pending sign-in is bound to this browser by an HttpOnly cookie. `next` is a local path to return to (anything else is ignored).',
    params: { type: 'object', properties: { name: str(64) } },
    querystring: {
      type: 'object',
      properties: {
        next: { type: 'string', description: 'a local path (e.g. /account)' },
        link: { type: 'string', description: '1: link to the signed-in account' },
      },
    },
    response: { 302: { description: 'to the provider' }, 400: htmlAnswer, 404: htmlAnswer },
  },
  handler: (s) => async (request, reply) => {
    const p = s.identityProviders.settings(request.params.name);
    if (!p) return page(reply, 'this provider', unknownProvider(request.params.name));
    const next = localPath(request.query.next);
    let linkUserId: string | null = null;
    if (request.query.link === '1') {
      // The session cookies are SameSite=Strict, so they come only with a navigation that started
      // on this site (the Link button of /account); Fetch Metadata also refuses a sibling
      // subdomain (same site, not same origin): no other page can start a link for the user.
      const fetchSite = request.headers['sec-fetch-site'];
      const foreign = fetchSite === 'cross-site' || fetchSite === 'same-site';
      const browser = foreign
        ? undefined
        : await browserSignIn(s, cookieOf(request, COOKIE.refresh));
      if (!browser)
        return page(reply, p.displayName, {
          status: 401,
          title: 'Sign in first',
          detail: `Sign in to your account, then link ${p.displayName} from your account page.`,
          reason: 'not_signed_in',
          action: 'Sign in',
          actionHref: '/login?next=%2Faccount',
        });
      linkUserId = browser.user.id;
    }
    try {
      const begun = await beginSignIn(s, p, { next, linkUserId });
      flowCookie(reply, begun.binding, FLOW_TTL_MS / 1000);
      return redirect(reply, begun.location);
    } catch (error) {
      if (error instanceof FlowError) {
        request.log.warn({ err: error.cause ?? error, provider: p.name }, 'sign-in not started');
        return page(reply, p.displayName, flowProblem(error, next));
      }
      throw error;
    }
  },
});

/** Where a browser goes once signed in: /authorize is read with the cookies of a same-site visit. */
function afterSignIn(next: string): string {
  // The callback follows a navigation from the provider's site, so the Strict session cookies would
  // not come with a redirect straight to /authorize; /login (same site) sends the browser on.
  return next.startsWith('/authorize') ? `/login?next=${encodeURIComponent(next)}` : next;
}

function outcomeAnswer(
  s: Services,
  reply: FastifyReply,
  label: string,
  outcome: ProviderOutcome,
): FastifyReply {
  switch (outcome.kind) {
    case 'session': {
      setSessionCookies(reply, {
        accessToken: outcome.result.tokens.access_token,
        refreshToken: outcome.result.tokens.refresh_token,
        csrfToken: createCsrfTokens(s.secrets).mint(outcome.result.sessionId),
        accessTtlSeconds: outcome.result.tokens.expires_in,
        refreshTtlSeconds: s.config.refreshTokenTtlSeconds,
      });
      return redirect(reply, afterSignIn(outcome.next));
    }
    case 'second_factor':
      mfaCookie(reply, outcome.mfaToken, MFA_COOKIE_SECONDS);
      return redirect(
        reply,
        `/auth/second-factor?${new URLSearchParams({ next: outcome.next }).toString()}`,
      );
    case 'linked':
      return redirect(reply, outcome.next);
    case 'refused': {
      const status =
        outcome.reason === 'email_collision'
          ? 409
          : ['inactive', 'signup_disabled', 'link_user_gone'].includes(outcome.reason)
            ? 403
            : 400;
      const collision = outcome.reason === 'email_collision';
      return page(reply, label, {
        status,
        title: collision
          ? 'An account with this email address already exists'
          : outcome.reason === 'inactive'
            ? 'This account is disabled'
            : 'You are not signed in',
        detail: outcome.detail,
        reason: outcome.reason,
        action: collision ? 'Sign in with your password' : 'Back to sign-in',
        actionHref: '/login',
      });
    }
  }
}

export const callback = route<{ Params: { name: string } }>({
  schema: {
    tags,
    summary: 'The provider’s redirect back: exchange the code, then sign in, link or create',
    description:
      'The state must match this browser’s flow cookie (single use); the code is exchanged with PKCE and the ID token validated (signature from the provider’s JWKS, iss, aud, exp, nonce). A linked identity signs its user in (2FA asked when on; deactivated users refused); a link started from /account links; otherwise a new account, unless an account has the same email (never linked automatically) or ALLOW_SIGNUP=false.',
    params: { type: 'object', properties: { name: str(64) } },
    response: {
      302: { description: 'signed in: to `next` (or the second-factor page)' },
      400: htmlAnswer,
      403: htmlAnswer,
      404: htmlAnswer,
      409: htmlAnswer,
    },
  },
  handler: (s) => async (request, reply) => {
    const p = s.identityProviders.settings(request.params.name);
    if (!p) return page(reply, 'this provider', unknownProvider(request.params.name));
    const binding = cookieOf(request, FLOW_COOKIE);
    // Whatever happens, the flow cookie has done its work.
    if (binding !== undefined) flowCookie(reply, '', 0);
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    try {
      const outcome = await completeProviderSignIn(
        s,
        p,
        { binding, query },
        clientInfo(request, s.config.defaultClientId),
      );
      return outcomeAnswer(s, reply, p.displayName, outcome);
    } catch (error) {
      if (error instanceof FlowError) {
        request.log.warn(
          { err: error.cause ?? error, provider: p.name, reason: error.reason },
          'identity provider sign-in failed',
        );
        return page(reply, p.displayName, flowProblem(error, '/'));
      }
      throw error;
    }
  },
});

export const secondFactor = route<{ Body: { otp: string } }>({
  schema: {
    tags,
    summary: 'The second factor after a provider sign-in: sets the session cookies',
    description:
      'For an account with 2FA the callback leads to the page of this path with an HttpOnly cookie holding the pending sign-in; the page posts the code here (JSON).',
    body: {
      type: 'object',
      required: ['otp'],
      additionalProperties: false,
      properties: { otp: { ...str(64), description: 'TOTP or recovery code' } },
    },
    response: { 200: ref('BrowserSession'), ...errorResponses([400, 403, 415, 422, 429]) },
  },
  preValidation: (request, _reply, done) => {
    // As POST /login: JSON only, which a form on another site cannot send without a preflight.
    if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? ''))
      throw new AppError('unsupported_media_type', 'Send the code as application/json.');
    done();
  },
  handler: (s) => {
    const csrf = createCsrfTokens(s.secrets);
    return async (request, reply) => {
      requireSameOrigin(request, s.config);
      const mfaToken = cookieOf(request, MFA_COOKIE);
      if (mfaToken === undefined)
        throw new AppError('invalid_grant', 'This sign-in has expired: sign in again.');
      const client = clientInfo(request, s.config.defaultClientId);
      const result = await completeSecondFactor(s, { mfaToken, otp: request.body.otp }, client);
      mfaCookie(reply, '', 0);
      return sendSession(s, reply, result, csrf.mint(result.sessionId));
    };
  },
});

export const providers = route({
  schema: {
    tags,
    summary: 'The identity providers users may sign in with (for the sign-in buttons)',
    response: {
      200: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'label', 'display_name', 'available', 'start_url'],
          properties: {
            name: { type: 'string' },
            label: { type: 'string', description: 'the button’s text (IDP_<NAME>_LABEL)' },
            display_name: { type: 'string', description: 'the provider’s name in sentences' },
            available: { type: 'boolean', description: 'false while it cannot be reached' },
            start_url: { type: 'string' },
          },
        },
      },
    },
  },
  handler: (s) => async (_request, reply) =>
    reply.header('cache-control', 'no-cache').send(
      s.identityProviders.list().map((p) => ({
        name: p.name,
        label: p.label,
        display_name: p.displayName,
        available: p.available,
        start_url: `/auth/${p.name}/start`,
      })),
    ),
});

export const identities = route({
  schema: {
    tags,
    summary: 'The identities at other providers linked to the account',
    security,
    response: {
      200: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['provider', 'display_name', 'email', 'linked_at', 'last_used_at'],
          properties: {
            provider: { type: 'string', description: 'its name in IDENTITY_PROVIDERS' },
            display_name: { type: 'string' },
            email: { type: ['string', 'null'] },
            linked_at: time,
            last_used_at: time,
          },
        },
      },
      ...errorResponses([401]),
    },
  },
  handler: (s) => async (request: FastifyRequest) => {
    const list = await listIdentities(s, callerOf(request).userId);
    return list.map((i) => ({
      provider: i.provider,
      display_name: i.displayName,
      email: i.email,
      linked_at: new Date(i.linkedAt).toISOString(),
      last_used_at: i.lastUsedAt === null ? null : new Date(i.lastUsedAt).toISOString(),
    }));
  },
});

export const unlink = route<{ Params: { name: string } }>({
  schema: {
    tags,
    summary: 'Unlink the identity at a provider',
    description:
      'Refused (409 `last_sign_in_method`) when it is the only way into an account without a password or a passkey.',
    security,
    params: { type: 'object', properties: { name: str(64) } },
    response: {
      204: { type: 'null', description: 'Done.' },
      ...errorResponses([401, 403, 404, 409]),
    },
  },
  handler: (s) => async (request, reply) => {
    await unlinkIdentity(s, callerOf(request).userId, request.params.name);
    return reply.code(204).send();
  },
});
