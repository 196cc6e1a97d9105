// The API at a glance: every route, who may call it, and its schemas.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { Services } from '../../auth/services.ts';
import type { Guards } from '../authenticate.ts';
import { COOKIE, cookieOf } from '../cookies.ts';
import { errorResponses, object, ref, str } from '../schemas.ts';
import { accountHandlers } from './account.ts';
import { accountMailRoutes } from './account-mail.ts';
import { adminHandlers } from './admin.ts';
import { auditHandler, auditListSchema } from './audit.ts';
import { browserHandlers } from './browser.ts';
import { oauthRoutes } from './oauth.ts';
import { totpRoutes } from './totp.ts';
import { wellKnownRoutes } from './well-known.ts';

const bearer = [{ oauth2: [] }];
const admin = [{ oauth2: ['admin'] }];
const noContent = { 204: { type: 'null', description: 'Done.' } };
// Handlers type their own body/params; the route schema guarantees that shape at run time.
const h = (fn: unknown): RouteHandlerMethod => fn as RouteHandlerMethod;

export async function routes(
  app: FastifyInstance,
  opts: { services: Services; guards: Guards },
): Promise<void> {
  const { user, admin: superuser } = opts.guards;
  const account = accountHandlers(opts.services);
  const adm = adminHandlers(opts.services);
  const browser = browserHandlers(opts.services);
  // POST /refresh: the body's token wins; without one, the browser's refresh cookie (SPEC §4).
  const refreshRoute = (
    request: FastifyRequest<{ Body: { refresh_token?: string } | undefined; Params: unknown }>,
    reply: FastifyReply,
  ): Promise<FastifyReply> =>
    request.body?.refresh_token === undefined && cookieOf(request, COOKIE.refresh) !== undefined
      ? browser.refresh(request, reply)
      : account.refresh(request, reply);
  const tags = (t: string) => ({ tags: [t] });

  await app.register(oauthRoutes, opts);
  await app.register(wellKnownRoutes, opts);
  // Password reset and email verification (/password/*, /verify*); TOTP (/users/me/totp*).
  await app.register(accountMailRoutes, opts);
  await app.register(totpRoutes, opts);

  app.post(
    '/register',
    {
      config: { rateLimit: 'register' },
      schema: {
        ...tags('account'),
        summary: 'Create an account',
        body: object(['email', 'username', 'password'], {
          email: str(254),
          username: str(64),
          password: str(4096),
        }),
        response: { 201: ref('User'), ...errorResponses([400, 409, 422, 429]) },
      },
    },
    h(account.register),
  );

  app.post(
    '/refresh',
    {
      config: { rateLimit: 'refresh' },
      // A browser refreshing with its cookie sends no body at all: that is an empty object here.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
      schema: {
        ...tags('account'),
        summary: 'Rotate a refresh token into a new token pair',
        description:
          'With `refresh_token` in the body: a new token pair. Without it, the refresh cookie is rotated as by `POST /session/refresh` (needs `X-CSRF-Token`) and the answer is the cookie-mode body.',
        body: object([], { refresh_token: str(256) }),
        response: {
          200: { anyOf: [ref('TokenPair'), ref('BrowserSession')] },
          ...errorResponses([400, 401, 403, 429]),
        },
      },
    },
    h(refreshRoute),
  );

  app.post(
    '/logout',
    {
      preHandler: user,
      schema: {
        ...tags('account'),
        summary: 'End the current session',
        security: bearer,
        response: noContent,
      },
    },
    h(account.logout),
  );

  app.get(
    '/users/me',
    {
      preHandler: user,
      schema: {
        ...tags('account'),
        summary: 'The current user',
        security: bearer,
        response: { 200: ref('User'), ...errorResponses([401]) },
      },
    },
    h(account.me),
  );

  app.patch(
    '/users/me',
    {
      preHandler: user,
      schema: {
        ...tags('account'),
        summary: 'Change email or username (a new email is unverified again)',
        security: bearer,
        body: { ...object([], { email: str(254), username: str(64) }), minProperties: 1 },
        response: { 200: ref('User'), ...errorResponses([401, 409, 422]) },
      },
    },
    h(account.updateMe),
  );

  app.delete(
    '/users/me',
    {
      preHandler: user,
      schema: {
        ...tags('account'),
        summary: 'Delete the account',
        security: bearer,
        body: object(['password'], { password: str(4096) }),
        response: { ...noContent, ...errorResponses([400, 401, 422]) },
      },
    },
    h(account.deleteMe),
  );

  app.post(
    '/users/me/password',
    {
      preHandler: user,
      schema: {
        ...tags('account'),
        summary: 'Change password; ends every other session',
        security: bearer,
        body: object(['current_password', 'new_password'], {
          current_password: str(4096),
          new_password: str(4096),
        }),
        response: { ...noContent, ...errorResponses([400, 401, 422]) },
      },
    },
    h(account.changePassword),
  );

  app.get(
    '/users/me/sessions',
    {
      preHandler: user,
      schema: {
        ...tags('account'),
        summary: 'Active sessions',
        security: bearer,
        response: { 200: { type: 'array', items: ref('Session') } },
      },
    },
    h(account.sessions),
  );
  app.delete(
    '/users/me/sessions',
    {
      preHandler: user,
      schema: {
        ...tags('account'),
        summary: 'End every session but the current one',
        security: bearer,
        response: noContent,
      },
    },
    h(account.endOtherSessions),
  );
  app.delete(
    '/users/me/sessions/:id',
    {
      preHandler: user,
      schema: {
        ...tags('account'),
        summary: 'End one session',
        security: bearer,
        params: object(['id'], { id: str(64) }),
        response: { ...noContent, ...errorResponses([401, 404]) },
      },
    },
    h(account.endSession),
  );

  app.get(
    '/users/:username',
    {
      preHandler: user,
      schema: {
        ...tags('account'),
        summary: 'A user (self, or any for superusers)',
        security: bearer,
        params: object(['username'], { username: str(320) }),
        response: { 200: ref('User'), ...errorResponses([401, 403, 404]) },
      },
    },
    h(account.user),
  );

  app.get(
    '/admin/users',
    {
      preHandler: superuser,
      schema: {
        ...tags('admin'),
        summary: 'List users (cursor pagination)',
        security: admin,
        querystring: object([], {
          limit: {
            type: 'string',
            pattern: '^(?:[1-9]\\d?|1\\d\\d|200)$',
            description: '1–200, default 50',
          },
          cursor: str(512),
          q: str(320),
        }),
        response: {
          200: {
            type: 'object',
            required: ['items', 'next_cursor'],
            properties: {
              items: { type: 'array', items: ref('User') },
              next_cursor: { type: ['string', 'null'] },
            },
          },
          ...errorResponses([401, 403, 422]),
        },
      },
    },
    h(adm.listUsers),
  );

  app.patch(
    '/admin/users/:id',
    {
      preHandler: superuser,
      schema: {
        ...tags('admin'),
        summary: 'Change a user’s flags and scopes; losing a right voids their tokens at once',
        security: admin,
        params: object(['id'], { id: str(64) }),
        body: {
          ...object([], {
            is_active: { type: 'boolean' },
            is_superuser: { type: 'boolean' },
            is_verified: { type: 'boolean' },
            scopes: { type: 'array', maxItems: 64, items: str(64) },
          }),
          minProperties: 1,
        },
        response: { 200: ref('User'), ...errorResponses([401, 403, 404, 422]) },
      },
    },
    h(adm.updateUser),
  );

  app.delete(
    '/admin/users/:id/sessions',
    {
      preHandler: superuser,
      schema: {
        ...tags('admin'),
        summary: 'End every session of a user; their tokens stop working at once',
        security: admin,
        params: object(['id'], { id: str(64) }),
        response: { ...noContent, ...errorResponses([401, 403, 404]) },
      },
    },
    h(adm.endSessions),
  );

  app.delete(
    '/admin/users/:id',
    {
      preHandler: superuser,
      schema: {
        ...tags('admin'),
        summary: 'Delete a user',
        security: admin,
        params: object(['id'], { id: str(64) }),
        response: { ...noContent, ...errorResponses([401, 403, 404]) },
      },
    },
    h(adm.deleteUser),
  );

  app.get(
    '/admin/audit',
    {
      preHandler: superuser,
      schema: {
        ...tags('admin'),
        summary: 'Audit log, newest first (filters: type, user, actor, subject, since, until)',
        security: admin,
        ...auditListSchema,
        response: { ...auditListSchema.response, ...errorResponses([401, 403, 422]) },
      },
    },
    h(auditHandler(opts.services)),
  );
}
