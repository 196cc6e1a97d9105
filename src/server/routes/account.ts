// The account API: registration, the caller's own account and sessions, and other users.
// HTTP only: parse, call the rules, shape the answer.
import {
  activeUser,
  changePassword,
  deleteAccount,
  register as registerAccount,
  updateProfile,
  userVisibleTo,
} from '../../auth/accounts/index.ts';
import { sendVerificationLater } from '../../auth/mail-tokens/index.ts';
import {
  endCurrentSession,
  endOwnOtherSessions,
  endOwnSession,
  listOwnSessions,
} from '../../auth/sessions/index.ts';
import { AppError } from '../../errors/index.ts';
import { callerOf } from '../authenticate.ts';
import { clearSessionCookies } from '../cookies.ts';
import { route } from '../route.ts';
import { errorResponses, object, ref, str, userView } from '../schemas.ts';

const tags = ['account'];
const security = [{ oauth2: [] }];
const noContent = { 204: { type: 'null', description: 'Done.' } };

export const register = route<{ Body: { email: string; username: string; password: string } }>({
  schema: {
    tags,
    summary: 'Create an account',
    body: object(['email', 'username', 'password'], {
      email: str(254),
      username: str(64),
      password: str(4096),
    }),
    response: { 201: ref('User'), ...errorResponses([400, 403, 409, 422, 429]) },
  },
  handler: (s) => async (request, reply) => {
    // ALLOW_SIGNUP=false: accounts come from an administrator (CLI, admin API) only (SPEC §9).
    if (!s.config.allowSignup)
      throw new AppError('signup_disabled', 'New accounts cannot be created on this server.');
    // Only these three fields are read: privileged fields in the body are never honoured.
    const { email, username, password } = request.body;
    const user = await registerAccount(s, { email, username, password });
    // Where tokens need a verified address, the first link goes out without being asked for.
    if (s.config.requireVerifiedEmail) sendVerificationLater(s, user);
    return reply
      .code(201)
      .header('location', `/users/${encodeURIComponent(user.username)}`)
      .send(userView(user));
  },
});

export const logout = route({
  schema: { tags, summary: 'End the current session', security, response: noContent },
  handler: (s) => async (request, reply) => {
    const caller = callerOf(request);
    await endCurrentSession(s, caller.userId, caller.sessionId);
    // Only a cookie logout clears cookies: a bearer client (Swagger UI) must not sign the pages out.
    if (caller.via === 'cookie') clearSessionCookies(reply);
    return reply.code(204).send();
  },
});

export const me = route({
  schema: {
    tags,
    summary: 'The current user',
    security,
    response: { 200: ref('User'), ...errorResponses([401]) },
  },
  handler: (s) => async (request) => userView(await activeUser(s, callerOf(request).userId)),
});

export const updateMe = route<{ Body: { email?: string; username?: string } }>({
  schema: {
    tags,
    summary: 'Change email or username (a new email is unverified again)',
    security,
    body: { ...object([], { email: str(254), username: str(64) }), minProperties: 1 },
    response: { 200: ref('User'), ...errorResponses([401, 409, 422]) },
  },
  handler: (s) => async (request) => {
    const user = await activeUser(s, callerOf(request).userId);
    return userView(await updateProfile(s, user.id, request.body));
  },
});

export const deleteMe = route<{ Body: { password: string } }>({
  schema: {
    tags,
    summary: 'Delete the account',
    security,
    body: object(['password'], { password: str(4096) }),
    response: { ...noContent, ...errorResponses([400, 401, 422]) },
  },
  handler: (s) => async (request, reply) => {
    const user = await activeUser(s, callerOf(request).userId);
    await deleteAccount(s, user.id, request.body.password);
    if (callerOf(request).via === 'cookie') clearSessionCookies(reply);
    return reply.code(204).send();
  },
});

export const newPassword = route<{ Body: { current_password: string; new_password: string } }>({
  schema: {
    tags,
    summary: 'Change password; ends every other session',
    security,
    body: object(['current_password', 'new_password'], {
      current_password: str(4096),
      new_password: str(4096),
    }),
    response: { ...noContent, ...errorResponses([400, 401, 422]) },
  },
  handler: (s) => async (request, reply) => {
    const user = await activeUser(s, callerOf(request).userId);
    await changePassword(s, user.id, callerOf(request).sessionId, request.body);
    return reply.code(204).send();
  },
});

export const sessions = route({
  schema: {
    tags,
    summary: 'Active sessions',
    security,
    response: { 200: { type: 'array', items: ref('Session') } },
  },
  handler: (s) => async (request) => {
    const caller = callerOf(request);
    const list = await listOwnSessions(s, caller.userId);
    return list.map((x) => ({
      id: x.id,
      created_at: new Date(x.createdAt).toISOString(),
      last_used_at: new Date(x.lastUsedAt).toISOString(),
      user_agent: x.userAgent,
      ip: x.ip,
      current: x.id === caller.sessionId,
    }));
  },
});

export const endOthers = route({
  schema: { tags, summary: 'End every session but the current one', security, response: noContent },
  handler: (s) => async (request, reply) => {
    const caller = callerOf(request);
    await endOwnOtherSessions(s, caller.userId, caller.sessionId);
    return reply.code(204).send();
  },
});

export const endSession = route<{ Params: { id: string } }>({
  schema: {
    tags,
    summary: 'End one session',
    security,
    params: object(['id'], { id: str(64) }),
    response: { ...noContent, ...errorResponses([401, 404]) },
  },
  handler: (s) => async (request, reply) => {
    await endOwnSession(s, callerOf(request).userId, request.params.id);
    return reply.code(204).send();
  },
});

export const user = route<{ Params: { username: string } }>({
  schema: {
    tags,
    summary: 'A user (self, or any for superusers)',
    security,
    params: object(['username'], { username: str(320) }),
    response: { 200: ref('User'), ...errorResponses([401, 403, 404]) },
  },
  handler: (s) => async (request) => {
    const caller = callerOf(request);
    const viewer = { userId: caller.userId, scope: caller.claims.scope };
    return userView(await userVisibleTo(s, viewer, request.params.username));
  },
});
