// Route guards: who is calling (a bearer access token), and whether they may.
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { ADMIN_SCOPE, hasScope } from '../auth/scopes.ts';
import type { Services } from '../auth/services.ts';
import type { ClientInfo } from '../auth/sessions.ts';
import { AuthenticationError, PermissionError } from '../errors/index.ts';
import type { AccessClaims } from '../tokens/access-token.ts';

export interface Caller {
  claims: AccessClaims;
  userId: string;
  sessionId: string;
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
  async function user(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = bearerToken(request);
    if (token === undefined) throw new AuthenticationError('Authentication required.', false);
    if (token === '') throw new AuthenticationError('The Authorization header is malformed.', true);
    const claims = await s.accessTokens.verify(token);
    request.caller = { claims, userId: claims.sub, sessionId: claims.sid };
  }
  async function admin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await user(request, reply);
    if (!hasScope(callerOf(request).claims.scope, ADMIN_SCOPE)) {
      throw new PermissionError('This needs a superuser token with the admin scope.', ADMIN_SCOPE);
    }
  }
  return { user, admin };
}
