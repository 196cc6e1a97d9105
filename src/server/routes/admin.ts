// The admin API (superusers): list, change and delete users, end their sessions.
// HTTP only: parse, call the rules, shape the answer.
import {
  type AdminPatch,
  adminUpdate,
  deleteUser as deleteAccountOf,
  listUsers as listAccounts,
} from '../../auth/accounts/index.ts';
import { passkeyCounts } from '../../auth/passkeys/index.ts';
import { endAllSessionsOf } from '../../auth/sessions/index.ts';
import { callerOf } from '../authenticate.ts';
import { cursorOf, page, pageLimit, pageQuery, pageSchema } from '../pagination.ts';
import { route } from '../route.ts';
import { errorResponses, object, ref, str, userView } from '../schemas.ts';

const tags = ['admin'];
const security = [{ oauth2: ['admin'] }];
const noContent = { 204: { type: 'null', description: 'Done.' } };

interface ListQuery {
  limit?: string;
  cursor?: string;
  q?: string;
}

// The cursor is the last id of the previous page.
const cursor = cursorOf(/^[0-9a-f-]{36}$/);

export const listUsers = route<{ Querystring: ListQuery }>({
  schema: {
    tags,
    summary: 'List users (cursor pagination)',
    security,
    querystring: object([], {
      ...pageQuery,
      q: str(320),
    }),
    response: {
      200: pageSchema('AdminUser'),
      ...errorResponses([401, 403, 422]),
    },
  },
  handler: (s) => async (request) => {
    const limit = pageLimit(request.query.limit);
    const after = cursor.decode(request.query.cursor);
    const rows = await listAccounts(s, { limit: limit + 1, after, q: request.query.q });
    const counts = await passkeyCounts(
      s,
      rows.map((u) => u.id),
    );
    const view = (u: (typeof rows)[number]) => ({
      ...userView(u),
      passkey_count: counts.get(u.id) ?? 0,
    });
    return page(rows, limit, view, (last) => cursor.encode(last.id));
  },
});

export const updateUser = route<{ Params: { id: string }; Body: AdminPatch }>({
  schema: {
    tags,
    summary: 'Change a user’s flags and scopes; losing a right voids their tokens at once',
    security,
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
  handler: (s) => async (request) => {
    const actor = callerOf(request).userId;
    return userView(await adminUpdate(s, request.params.id, request.body, actor));
  },
});

export const endSessions = route<{ Params: { id: string } }>({
  schema: {
    tags,
    summary: 'End every session of a user; their tokens stop working at once',
    security,
    params: object(['id'], { id: str(64) }),
    response: { ...noContent, ...errorResponses([401, 403, 404]) },
  },
  handler: (s) => async (request, reply) => {
    await endAllSessionsOf(s, callerOf(request).userId, request.params.id);
    return reply.code(204).send();
  },
});

export const deleteUser = route<{ Params: { id: string } }>({
  schema: {
    tags,
    summary: 'Delete a user',
    security,
    params: object(['id'], { id: str(64) }),
    response: { ...noContent, ...errorResponses([401, 403, 404]) },
  },
  handler: (s) => async (request, reply) => {
    await deleteAccountOf(s, request.params.id, callerOf(request).userId);
    return reply.code(204).send();
  },
});
