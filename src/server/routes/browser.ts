// Cookie mode for the web pages: POST /login and POST /session/refresh set the session cookies and
// answer {user, csrf_token, expires_in}. The session rules are those of /token. POST /refresh takes
// a refresh token in the body, or else rotates the cookie as /session/refresh does.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { passwordAdvice } from '../../auth/accounts/index.ts';
import { loginWithSecondFactor } from '../../auth/login/index.ts';
import type { Services } from '../../auth/services.ts';
import {
  endReplacedSession,
  type LoginResult,
  refresh,
  sessionOfRefreshToken,
} from '../../auth/sessions/index.ts';
import { AppError, AuthenticationError, isAppError } from '../../errors/index.ts';
import { clientInfo } from '../authenticate.ts';
import { COOKIE, clearSessionCookies, cookieOf, setSessionCookies } from '../cookies.ts';
import { type CsrfTokens, createCsrfTokens, requireCsrfToken, requireSameOrigin } from '../csrf.ts';
import { route } from '../route.ts';
import { errorResponses, object, ref, str, userView } from '../schemas.ts';

const tags = ['browser'];

interface LoginBody {
  username: string;
  password: string;
  otp?: string;
}

interface CheckBody {
  password: string;
  username?: string;
  email?: string;
}

export function sendSession(
  s: Services,
  reply: FastifyReply,
  result: LoginResult,
  csrfToken: string,
): FastifyReply {
  setSessionCookies(reply, {
    accessToken: result.tokens.access_token,
    refreshToken: result.tokens.refresh_token,
    csrfToken,
    accessTtlSeconds: result.tokens.expires_in,
    refreshTtlSeconds: s.config.refreshTokenTtlSeconds,
  });
  return reply
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .send({
      user: userView(result.user),
      csrf_token: csrfToken,
      expires_in: result.tokens.expires_in,
    });
}

function sessionEnded(reply: FastifyReply, detail: string): AppError {
  // The cookies name a dead session: drop them so the browser stops presenting them.
  clearSessionCookies(reply);
  return new AppError('session_ended', detail);
}

/** Rotates the refresh cookie (POST /session/refresh, and POST /refresh without a body token). */
function cookieRefresh(
  s: Services,
  csrf: CsrfTokens,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (request, reply) => {
    const token = cookieOf(request, COOKIE.refresh);
    if (token === undefined) throw new AuthenticationError('No session cookie: sign in.', false);
    const sessionId = await sessionOfRefreshToken(s, token);
    if (sessionId === undefined) throw sessionEnded(reply, 'The session has ended.');
    requireCsrfToken(request, s.config, csrf, sessionId);
    let result: LoginResult;
    try {
      result = await refresh(s, token, undefined);
    } catch (error) {
      // The cookies name a dead session: drop them so the browser stops presenting them.
      if (isAppError(error, 'session_ended')) clearSessionCookies(reply);
      throw error;
    }
    // The CSRF token stays the same for the life of the session, so a tab holding it keeps working.
    return sendSession(s, reply, result, csrf.renew(sessionId, cookieOf(request, COOKIE.csrf)));
  };
}

function requireJson(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  // An HTML form on another site can post form fields or text, but not JSON without a CORS preflight.
  if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) {
    throw new AppError('unsupported_media_type', 'Send the credentials as application/json.');
  }
  done();
}

export const login = route<{ Body: LoginBody }>({
  preValidation: requireJson,
  schema: {
    tags,
    summary: 'Sign in for the web pages: sets the session cookies',
    description:
      'Sets HttpOnly `__Host-` cookies for the access and refresh tokens and a readable CSRF cookie. Cookie-authenticated POST, PUT, PATCH and DELETE requests must echo the CSRF token in `X-CSRF-Token`.',
    body: {
      type: 'object',
      required: ['username', 'password'],
      additionalProperties: false,
      properties: {
        username: { ...str(320), description: 'username or email' },
        password: str(4096),
        otp: { ...str(64), description: 'TOTP or recovery code, when 2FA is on' },
      },
    },
    response: { 200: ref('BrowserSession'), ...errorResponses([400, 403, 415, 422, 429]) },
  },
  handler: (s) => {
    const csrf = createCsrfTokens(s.secrets);
    return async (request, reply) => {
      // No CSRF token exists before login; Origin and Sec-Fetch-Site stop a cross-site login
      // (signing the victim in as the attacker).
      requireSameOrigin(request, s.config);
      const previous = cookieOf(request, COOKIE.refresh);
      const { username, password, otp } = request.body;
      const client = clientInfo(request, s.config.defaultClientId);
      // One step for the form: without `otp` a 2FA account answers 400 mfa_required (the page then
      // asks for the code and sends all three again); with it the code is checked at once.
      const result = await loginWithSecondFactor(s, { username, password, otp }, client);
      // One browser, one session: the session its old cookies belonged to ends with this login.
      if (previous !== undefined) await endReplacedSession(s, previous);
      return sendSession(s, reply, result, csrf.mint(result.sessionId));
    };
  },
});

export const sessionRefresh = route({
  schema: {
    tags,
    summary: 'Rotate the session cookies before the access cookie expires',
    description: 'Needs the refresh cookie and `X-CSRF-Token`.',
    response: { 200: ref('BrowserSession'), ...errorResponses([401, 403, 429]) },
  },
  handler: (s) => cookieRefresh(s, createCsrfTokens(s.secrets)),
});

export const refreshTokens = route<{ Body: { refresh_token?: string } }>({
  // A browser refreshing with its cookie sends no body at all: that is an empty object here.
  preValidation: async (request) => {
    if (request.body === undefined) request.body = {};
  },
  schema: {
    tags: ['account'],
    summary: 'Rotate a refresh token into a new token pair',
    description:
      'With `refresh_token` in the body: a new token pair. Without it, the refresh cookie is rotated as by `POST /session/refresh` (needs `X-CSRF-Token`) and the answer is the cookie-mode body.',
    body: object([], { refresh_token: str(256) }),
    response: {
      200: { anyOf: [ref('TokenPair'), ref('BrowserSession')] },
      ...errorResponses([400, 401, 403, 429]),
    },
  },
  handler: (s) => {
    const withCookie = cookieRefresh(s, createCsrfTokens(s.secrets));
    return async (request, reply) => {
      const token = request.body?.refresh_token;
      // The body's token wins; without one, the browser's refresh cookie.
      if (token === undefined && cookieOf(request, COOKIE.refresh) !== undefined)
        return withCookie(request, reply);
      if (!token) throw new AppError('invalid_request', 'refresh_token is required.');
      // Not an OAuth endpoint: a dead refresh token (session_ended) is a failed authentication.
      const result = await refresh(s, token, undefined);
      return reply.header('cache-control', 'no-store').send(result.tokens);
    };
  },
});

export const passwordCheck = route<{ Body: CheckBody }>({
  schema: {
    tags,
    summary: 'Check a candidate password against the policy (nothing is stored)',
    body: {
      type: 'object',
      required: ['password'],
      additionalProperties: false,
      properties: { password: str(4096), username: str(64), email: str(254) },
    },
    response: {
      200: {
        type: 'object',
        additionalProperties: false,
        required: ['acceptable', 'reasons', 'messages', 'min_length', 'max_length'],
        properties: {
          acceptable: { type: 'boolean' },
          reasons: { type: 'array', items: { type: 'string' } },
          messages: { type: 'array', items: { type: 'string' } },
          min_length: { type: 'integer' },
          max_length: { type: 'integer' },
        },
      },
      ...errorResponses([400, 422]),
    },
  },
  handler: (s) => async (request, reply) => {
    const { password, username, email } = request.body;
    // The candidate is secret: the answer must not linger in any cache.
    return reply
      .header('cache-control', 'no-store')
      .send(passwordAdvice(s, password, { username, email }));
  },
});
