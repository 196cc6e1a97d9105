// Handlers of the account API: registration, the caller's own account, sessions and other users.
// HTTP only: parse, call the rules, shape the answer.
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  changePassword,
  deleteAccount,
  register,
  updateProfile,
} from '../../auth/accounts/index.ts';
import { ADMIN_SCOPE, hasScope, normalizeLogin } from '../../auth/identity/index.ts';
import { sendVerificationLater } from '../../auth/mail-tokens/index.ts';
import type { Services } from '../../auth/services.ts';
import {
  endOtherSessions,
  endSessions,
  refresh,
  type SessionEndEvent,
} from '../../auth/sessions/index.ts';
import { AppError, AuthenticationError, notFound, PermissionError } from '../../errors/index.ts';
import { callerOf } from '../authenticate.ts';
import { clearSessionCookies } from '../cookies.ts';
import { userView } from '../schemas.ts';

type Req<B = unknown, P = unknown> = FastifyRequest<{ Body: B; Params: P }>;

export interface AccountHandlers {
  register(
    request: Req<{ email: string; username: string; password: string }>,
    reply: FastifyReply,
  ): Promise<FastifyReply>;
  refresh(
    request: Req<{ refresh_token?: string } | undefined>,
    reply: FastifyReply,
  ): Promise<FastifyReply>;
  logout(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>;
  me(request: FastifyRequest): Promise<unknown>;
  updateMe(request: Req<{ email?: string; username?: string }>): Promise<unknown>;
  changePassword(
    request: Req<{ current_password: string; new_password: string }>,
    reply: FastifyReply,
  ): Promise<FastifyReply>;
  deleteMe(request: Req<{ password: string }>, reply: FastifyReply): Promise<FastifyReply>;
  sessions(request: FastifyRequest): Promise<unknown>;
  endSession(request: Req<unknown, { id: string }>, reply: FastifyReply): Promise<FastifyReply>;
  endOtherSessions(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>;
  user(request: Req<unknown, { username: string }>): Promise<unknown>;
}

/** The audit entry of sessions the user ends. */
function ended(userId: string, reason: string): SessionEndEvent {
  return { type: 'session.end', actorId: userId, subjectId: userId, details: { reason } };
}

export function accountHandlers(s: Services): AccountHandlers {
  async function currentUser(request: FastifyRequest) {
    const user = await s.store.users.findById(callerOf(request).userId);
    // The token may be valid while the account is gone or disabled since: it no longer authenticates.
    if (!user?.isActive) throw new AuthenticationError('The account is disabled or gone.', true);
    return user;
  }

  return {
    async register(request, reply) {
      // Only these three fields are read: privileged fields in the body are never honoured.
      const { email, username, password } = request.body;
      const user = await register(s, { email, username, password });
      // Where tokens need a verified address, the first link goes out without being asked for.
      if (s.config.requireVerifiedEmail) sendVerificationLater(s, user);
      return reply
        .code(201)
        .header('location', `/users/${encodeURIComponent(user.username)}`)
        .send(userView(user));
    },

    async refresh(request, reply) {
      const token = request.body?.refresh_token;
      if (!token) throw new AppError('invalid_request', 'refresh_token is required.');
      try {
        const result = await refresh(s, token, undefined);
        return reply.header('cache-control', 'no-store').send(result.tokens);
      } catch (error) {
        // Not an OAuth endpoint: a dead refresh token is a failed authentication.
        if (error instanceof AppError && error.code === 'invalid_grant') {
          throw new AppError('session_ended', error.message);
        }
        throw error;
      }
    },

    async logout(request, reply) {
      const caller = callerOf(request);
      await endSessions(s, [caller.sessionId], ended(caller.userId, 'logout'));
      // Only a cookie logout clears cookies: a bearer client (Swagger UI) must not sign the pages out.
      if (caller.via === 'cookie') clearSessionCookies(reply);
      return reply.code(204).send();
    },

    async me(request) {
      return userView(await currentUser(request));
    },

    async updateMe(request) {
      const user = await currentUser(request);
      return userView(await updateProfile(s, user.id, request.body));
    },

    async changePassword(request, reply) {
      const user = await currentUser(request);
      await changePassword(s, user.id, callerOf(request).sessionId, request.body);
      return reply.code(204).send();
    },

    async deleteMe(request, reply) {
      const user = await currentUser(request);
      await deleteAccount(s, user.id, request.body.password);
      if (callerOf(request).via === 'cookie') clearSessionCookies(reply);
      return reply.code(204).send();
    },

    async sessions(request) {
      const caller = callerOf(request);
      const list = await s.store.sessions.listActive(caller.userId, s.clock());
      return list.map((x) => ({
        id: x.id,
        created_at: new Date(x.createdAt).toISOString(),
        last_used_at: new Date(x.lastUsedAt).toISOString(),
        user_agent: x.userAgent,
        ip: x.ip,
        current: x.id === caller.sessionId,
      }));
    },

    async endSession(request, reply) {
      const caller = callerOf(request);
      const session = await s.store.sessions.findById(request.params.id);
      // Another user's session is answered exactly like a missing one.
      if (!session || session.userId !== caller.userId || session.revokedAt !== null)
        throw notFound('Session');
      await endSessions(s, [session.id], ended(caller.userId, 'user'));
      return reply.code(204).send();
    },

    async endOtherSessions(request, reply) {
      const caller = callerOf(request);
      await endOtherSessions(s, caller.userId, caller.sessionId, ended(caller.userId, 'others'));
      return reply.code(204).send();
    },

    async user(request) {
      const caller = callerOf(request);
      const superuser = hasScope(caller.claims.scope, ADMIN_SCOPE);
      const { normalized } = normalizeLogin(request.params.username);
      const user = normalized.includes('@')
        ? undefined
        : await s.store.users.findByUsernameNorm(normalized);
      if (user && user.id === caller.userId) return userView(user);
      // 403 whether or not the user exists, so that names cannot be probed; only superusers see 404.
      if (!superuser) throw new PermissionError('You may only read your own account.');
      if (!user) throw notFound('User');
      return userView(user);
    },
  };
}
