// Handlers of the admin API (superusers): list, change and delete users.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AdminPatch, adminUpdate, deleteUser } from '../../auth/accounts/index.ts';
import type { Services } from '../../auth/services.ts';
import { endAllSessionsOf } from '../../auth/sessions/index.ts';
import { ValidationError } from '../../errors/index.ts';
import { callerOf } from '../authenticate.ts';
import { userView } from '../schemas.ts';

type Req<Q = unknown, P = unknown, B = unknown> = FastifyRequest<{
  Querystring: Q;
  Params: P;
  Body: B;
}>;

interface ListQuery {
  limit?: string;
  cursor?: string;
  q?: string;
}

export interface AdminHandlers {
  listUsers(request: Req<ListQuery>): Promise<unknown>;
  updateUser(request: Req<unknown, { id: string }, AdminPatch>): Promise<unknown>;
  deleteUser(request: Req<unknown, { id: string }>, reply: FastifyReply): Promise<FastifyReply>;
  endSessions(request: Req<unknown, { id: string }>, reply: FastifyReply): Promise<FastifyReply>;
}

// The cursor is the last id of the previous page, opaque to clients.
const encodeCursor = (id: string): string => Buffer.from(id, 'utf8').toString('base64url');
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[0-9a-f-]{36}$/.test(id)) {
    throw new ValidationError('The cursor is invalid.', [
      { field: 'cursor', message: 'not a cursor from this API' },
    ]);
  }
  return id;
}

export function adminHandlers(s: Services): AdminHandlers {
  return {
    async listUsers(request) {
      const limit = Number(request.query.limit ?? 50);
      const after = request.query.cursor ? decodeCursor(request.query.cursor) : undefined;
      const q = request.query.q?.normalize('NFKC').toLowerCase() || undefined;
      // One extra row tells whether another page exists.
      const rows = await s.store.users.list({ limit: limit + 1, after, q });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(userView),
        next_cursor: rows.length > limit && last ? encodeCursor(last.id) : null,
      };
    },
    async updateUser(request) {
      const actor = callerOf(request).userId;
      return userView(await adminUpdate(s, request.params.id, request.body, actor));
    },
    async deleteUser(request, reply) {
      await deleteUser(s, request.params.id, callerOf(request).userId);
      return reply.code(204).send();
    },
    async endSessions(request, reply) {
      await endAllSessionsOf(s, callerOf(request).userId, request.params.id);
      return reply.code(204).send();
    },
  };
}
