// Route guards: who is calling (a bearer access token, or the browser's access cookie), and whether
// they may.
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { ADMIN_SCOPE, hasScope } from '../auth/identity/index.ts';
import type { Services } from '../auth/services.ts';
import type { ClientInfo } from '../auth/sessions/index.ts';
import { AuthenticationError, PermissionError } from '../errors/index.ts';
import type { AccessClaims } from '../tokens/access-token.ts';
import { COOKIE, cookieOf } from './cookies.ts';
import { createCsrfTokens, isStateChanging, requireCsrfToken } from './csrf.ts';

export interface Caller {
  claims: AccessClaims;
  userId: string;
  sessionId: string;
  /** How the access token came: cookie callers passed the CSRF check on state changes. */
  via: 'bearer' | 'cookie';
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

/** The bearer token of the request: undefined when none was sent, '' when the header is malformed. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer +([^\s]+) *$/i.exec(header);
  return match?.[1] ?? '';
}

export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new AuthenticationError('Authentication required.', false);
  return request.caller;
}

export function clientInfo(request: FastifyRequest, clientId: string): ClientInfo {
  const agent = request.headers['user-agent'];
  return { clientId, userAgent: agent ? agent.slice(0, 512) : null, ip: request.ip ?? null };
}

export interface Guards {
  /** Any live access token. */
  user: preHandlerAsyncHookHandler;
  /** A live access token with the admin scope (superusers only hold it). */
  admin: preHandlerAsyncHookHandler;
}

export function createGuards(s: Services): Guards {
  const csrf = createCsrfTokens(s.secrets);
  async function user(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = bearerToken(request);
    // A bearer header wins; a bad one is a 401 and never falls back to the cookie, or a bogus header
    // would turn a cookie request into one that skips the CSRF check.
    if (token !== undefined) {
      if (token === '')
        throw new AuthenticationError('The Authorization header is malformed.', true);
      const claims = await s.accessTokens.verify(token);
      request.caller = { claims, userId: claims.sub, sessionId: claims.sid, via: 'bearer' };
      return;
    }
    const cookie = cookieOf(request, COOKIE.access);
    if (cookie === undefined) throw new AuthenticationError('Authentication required.', false);
    const claims = await s.accessTokens.verify(cookie);
    // Browsers attach cookies to requests other sites start: state changes need the CSRF token.
    if (isStateChanging(request)) requireCsrfToken(request, s.config, csrf, claims.sid);
    request.caller = { claims, userId: claims.sub, sessionId: claims.sid, via: 'cookie' };
  }
  async function admin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await user(request, reply);
    if (!hasScope(callerOf(request).claims.scope, ADMIN_SCOPE)) {
      throw new PermissionError('This needs a superuser token with the admin scope.', ADMIN_SCOPE);
    }
  }
  return { user, admin };
}
