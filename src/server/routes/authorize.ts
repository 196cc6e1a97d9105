// The browser side of the provider: /authorize (the sign-in and consent steps of the code flow),
// the consent form's answer, and RP-initiated logout (GET /logout and its confirmation). Until the
// client and redirect URI are trusted every problem is an HTML page (400); after that, errors go
// back to the app's redirect URI.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type AuthorizationRequest,
  afterLogout,
  answerConsent,
  browserSignIn,
  checkAuthorizationRequest,
  checkLogoutRequest,
  decide,
  endSessionOf,
  errorLocation,
  requestFields,
} from '../../auth/oauth/index.ts';
import type { Services } from '../../auth/services.ts';
import { formBodies } from '../body-parsers.ts';
import { COOKIE, clearSessionCookies, cookieOf } from '../cookies.ts';
import { createCsrfTokens, requireSameOrigin } from '../csrf.ts';
import { toAppError } from '../errors.ts';
import {
  authorizeErrorPage,
  consentPage,
  logoutConfirmPage,
  signedOutPage,
} from '../oauth-pages.ts';
import { route } from '../route.ts';
import { contentSecurityPolicy } from '../security-headers.ts';

type Params = Record<string, unknown>;

/** Form bodies, and every error as an HTML page: a person reads these answers, not a program. */
export function browserContext(app: FastifyInstance): void {
  formBodies(app);
  app.setErrorHandler((error, request, reply) => {
    const e = toAppError(error, request);
    if (e.status >= 500) request.log.error({ err: error }, 'request failed');
    const retry = e.extra.retryAfter;
    if (typeof retry === 'number') reply.header('retry-after', String(retry));
    const title =
      e.status === 429
        ? 'Too many requests'
        : e.status >= 500
          ? 'Something went wrong'
          : 'This request is not valid';
    return html(reply, Math.min(e.status, 500), authorizeErrorPage({ title, detail: e.message }));
  });
}
const tags = ['oauth'];

const param = (description: string) => ({ description });
const authorizeParams = {
  type: 'object',
  properties: {
    response_type: param('code'),
    client_id: param('a registered client'),
    redirect_uri: param('one of the client’s, exactly (loopback IPs: any port)'),
    scope: param('space-delimited; openid, profile, email, offline_access and API scopes'),
    state: param('returned unchanged'),
    code_challenge: param('PKCE: BASE64URL(SHA-256(code_verifier))'),
    code_challenge_method: param('S256'),
    nonce: param('copied into the ID token'),
    prompt: param('none, login or consent'),
    max_age: param('seconds since the last sign-in'),
    login_hint: param('prefills the sign-in page'),
  },
} as const;

const htmlAnswer = { description: 'an HTML page', type: 'string' } as const;

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);
}

function errorPage(reply: FastifyReply, title: string, detail: string): FastifyReply {
  return html(reply, 400, authorizeErrorPage({ title, detail }));
}

function redirect(reply: FastifyReply, location: string): FastifyReply {
  return reply.header('cache-control', 'no-store').redirect(location, 302);
}

/**
 * A page whose form leads (by a redirect) to `target`: CSP form-action must name its origin, or the
 * browser blocks the redirect after the submission.
 */
function allowFormTo(s: Services, reply: FastifyReply, target: string | undefined): void {
  const production = s.config.nodeEnv === 'production';
  let csp = contentSecurityPolicy(production, s.config.publicUrl);
  if (target !== undefined) {
    csp = csp.replace("form-action 'self'", `form-action 'self' ${new URL(target).origin}`);
  }
  reply.header('content-security-policy', csp);
}

function paramsOf(request: FastifyRequest): Params {
  const source = request.method === 'GET' ? request.query : request.body;
  return source !== null && typeof source === 'object' ? { ...(source as Params) } : {};
}

/** The sign-in page, which returns here once the user is signed in. */
function toLogin(
  s: Services,
  reply: FastifyReply,
  request: AuthorizationRequest,
  reauth: boolean,
): FastifyReply {
  const fields = requestFields(
    // prompt=login is asked once: the return asks only for a sign-in newer than this moment.
    reauth ? { ...request, authAfter: Math.floor(s.clock() / 1000) } : request,
  );
  const next = `/authorize?${new URLSearchParams(fields).toString()}`;
  const query = new URLSearchParams({ next });
  if (reauth) query.set('reauth', '1');
  if (request.loginHint) query.set('login_hint', request.loginHint);
  return redirect(reply, `/login?${query.toString()}`);
}

export const authorize = route({
  schema: {
    tags,
    summary: 'OAuth 2.1 authorization endpoint (code flow with PKCE; OpenID Connect)',
    description:
      'Signs the user in (the web sign-in page), asks for consent, and redirects to the client with `code`, `state` and `iss`. Unknown clients and redirect URIs get an error page, never a redirect.',
    querystring: authorizeParams,
    response: {
      200: htmlAnswer,
      302: { description: 'to the sign-in page or the client' },
      400: htmlAnswer,
    },
  },
  handler: (s) => {
    const csrf = createCsrfTokens(s.secrets);
    return async (request, reply) => {
      const checked = await checkAuthorizationRequest(s, paramsOf(request));
      if (checked.kind === 'page') return errorPage(reply, checked.title, checked.detail);
      if (checked.kind === 'redirect')
        return redirect(reply, errorLocation(s.config.issuer, checked));
      const { request: req } = checked;
      const browser = await browserSignIn(s, cookieOf(request, COOKIE.refresh));
      const decision = await decide(s, req, browser);
      switch (decision.kind) {
        case 'login':
          return toLogin(s, reply, req, decision.reauth);
        case 'redirect':
          return redirect(reply, errorLocation(s.config.issuer, decision));
        case 'code':
          return redirect(reply, decision.location);
        case 'consent':
          allowFormTo(s, reply, req.redirectUri);
          return html(
            reply,
            200,
            consentPage({
              clientName: req.client.name,
              clientId: req.client.clientId,
              username: decision.user.username,
              scopes: req.scopes,
              fields: requestFields(req),
              csrfToken: csrf.mint(decision.sessionId),
            }),
          );
      }
    };
  },
});

export const consentDecision = route({
  schema: {
    tags,
    summary: 'The consent form’s answer (Allow or Deny)',
    consumes: ['application/x-www-form-urlencoded'],
    body: {
      type: 'object',
      properties: { decision: param('allow or deny'), csrf_token: param('from the page') },
    },
    response: { 302: { description: 'to the client' }, 400: htmlAnswer },
  },
  handler: (s) => {
    const csrf = createCsrfTokens(s.secrets);
    return async (request, reply) => {
      const params = paramsOf(request);
      const { decision: answer, csrf_token: token } = params;
      delete params.decision;
      delete params.csrf_token;
      const checked = await checkAuthorizationRequest(s, params);
      if (checked.kind === 'page') return errorPage(reply, checked.title, checked.detail);
      if (checked.kind === 'redirect')
        return redirect(reply, errorLocation(s.config.issuer, checked));
      const browser = await browserSignIn(s, cookieOf(request, COOKIE.refresh));
      if (!browser) {
        return errorPage(reply, 'Your session has ended', 'Sign in again from the application.');
      }
      // The form is ours only if it came from our origin with the token minted for this session.
      try {
        requireSameOrigin(request, s.config);
      } catch {
        return errorPage(reply, 'This form cannot be used', 'It was sent from another site.');
      }
      if (typeof token !== 'string' || !csrf.isValid(token, browser.sessionId)) {
        return errorPage(
          reply,
          'This form has expired',
          'Go back to the application and try again.',
        );
      }
      if (answer !== 'allow' && answer !== 'deny') {
        return errorPage(reply, 'No answer was given', 'Choose Allow or Deny.');
      }
      // Everything /authorize checks is checked again: rights may have changed on the page.
      const next = await decide(s, { ...checked.request, prompt: new Set(['consent']) }, browser);
      if (next.kind === 'login') return toLogin(s, reply, checked.request, next.reauth);
      if (next.kind === 'redirect') return redirect(reply, errorLocation(s.config.issuer, next));
      if (next.kind === 'code') return redirect(reply, next.location);
      return redirect(reply, await answerConsent(s, checked.request, browser, answer === 'allow'));
    };
  },
});

const logoutParams = {
  type: 'object',
  properties: {
    id_token_hint: param('an ID token this server issued'),
    client_id: param('the client'),
    post_logout_redirect_uri: param('one of the client’s registered post-logout URIs'),
    state: param('returned unchanged'),
  },
} as const;

async function finishLogout(
  s: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  logout: Parameters<typeof endSessionOf>[1],
): Promise<FastifyReply> {
  const browser = await browserSignIn(s, cookieOf(request, COOKIE.refresh));
  await endSessionOf(s, logout, browser);
  if (browser && (logout.hintSubject === undefined || logout.hintSubject === browser.user.id)) {
    clearSessionCookies(reply);
  }
  const location = afterLogout(logout);
  if (location !== undefined) return redirect(reply, location);
  return html(reply, 200, signedOutPage({ clientName: logout.client?.name }));
}

export const endSession = route({
  schema: {
    tags,
    summary: 'OpenID Connect RP-initiated logout (end_session_endpoint)',
    description:
      'With a valid `id_token_hint`: ends the browser’s session and the client’s sessions for the user, then returns to a registered post-logout URI (with `state`) or shows the signed-out page. Without one, asks the user to confirm first. `POST /logout` is the API logout of the caller’s own session.',
    querystring: logoutParams,
    response: {
      200: htmlAnswer,
      302: { description: 'to the registered post-logout URI' },
      400: htmlAnswer,
    },
  },
  handler: (s) => {
    const csrf = createCsrfTokens(s.secrets);
    return async (request, reply) => {
      const checked = await checkLogoutRequest(s, paramsOf(request));
      if (checked.kind === 'page') return errorPage(reply, checked.title, checked.detail);
      const logout = checked.request;
      if (logout.hintSubject !== undefined) return finishLogout(s, request, reply, logout);
      const browser = await browserSignIn(s, cookieOf(request, COOKIE.refresh));
      if (!browser) {
        // Nobody is signed in here: nothing to end, nothing to confirm.
        const location = afterLogout(logout);
        if (location !== undefined) return redirect(reply, location);
        return html(reply, 200, signedOutPage({ clientName: logout.client?.name }));
      }
      // No proof the app asked (a link anyone could send): the user confirms first.
      const fields: Record<string, string> = {};
      if (logout.client) fields.client_id = logout.client.clientId;
      if (logout.postLogoutRedirectUri)
        fields.post_logout_redirect_uri = logout.postLogoutRedirectUri;
      if (logout.state !== undefined) fields.state = logout.state;
      allowFormTo(s, reply, logout.postLogoutRedirectUri);
      return html(
        reply,
        200,
        logoutConfirmPage({
          clientName: logout.client?.name,
          fields,
          csrfToken: csrf.mint(browser.sessionId),
        }),
      );
    };
  },
});

export const confirmLogout = route({
  schema: {
    tags,
    summary: 'The sign-out confirmation form’s answer',
    consumes: ['application/x-www-form-urlencoded'],
    body: {
      type: 'object',
      properties: { decision: param('confirm or cancel'), csrf_token: param('from the page') },
    },
    response: {
      200: htmlAnswer,
      302: { description: 'to the post-logout URI or home' },
      400: htmlAnswer,
    },
  },
  handler: (s) => {
    const csrf = createCsrfTokens(s.secrets);
    return async (request, reply) => {
      const params = paramsOf(request);
      const { decision: answer, csrf_token: token } = params;
      delete params.decision;
      delete params.csrf_token;
      delete params.id_token_hint;
      const checked = await checkLogoutRequest(s, params);
      if (checked.kind === 'page') return errorPage(reply, checked.title, checked.detail);
      const browser = await browserSignIn(s, cookieOf(request, COOKIE.refresh));
      if (!browser)
        return html(reply, 200, signedOutPage({ clientName: checked.request.client?.name }));
      try {
        requireSameOrigin(request, s.config);
      } catch {
        return errorPage(reply, 'This form cannot be used', 'It was sent from another site.');
      }
      // Signing someone out is a change made for them: only with the token of their own session.
      if (typeof token !== 'string' || !csrf.isValid(token, browser.sessionId)) {
        return errorPage(reply, 'This form has expired', 'Open the sign-out link again.');
      }
      if (answer !== 'confirm') return redirect(reply, '/');
      return finishLogout(s, request, reply, checked.request);
    };
  },
});
