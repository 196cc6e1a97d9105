// GET /admin/audit: the audit log for superusers, newest first, with filters and cursor pagination.
import { type AuditEntry, type AuditQuery, listAudit } from '../../auth/audit/index.ts';
import { ValidationError } from '../../errors/index.ts';
import { cursorOf, page, pageLimit } from '../pagination.ts';
import { route } from '../route.ts';
import { errorResponses } from '../schemas.ts';

export interface AuditListQuery {
  limit?: string;
  cursor?: string;
  type?: string;
  user?: string;
  actor?: string;
  subject?: string;
  since?: string;
  until?: string;
}

const id = { type: 'string', maxLength: 64 } as const;
const instant = {
  type: 'string',
  maxLength: 40,
  description: 'an RFC 3339 date-time, e.g. 2026-11-23T15:00:00Z',
} as const;

const auditListSchema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: {
        type: 'string',
        pattern: '^(?:[1-9]\\d?|1\\d\\d|200)$',
        description: '1–200, default 50',
      },
      cursor: { type: 'string', maxLength: 64 },
      type: {
        type: 'string',
        maxLength: 512,
        pattern: '^[a-z_.]+(?:,[a-z_.]+)*$',
        description: 'one event type or a comma-separated list, e.g. login.failure,lockout',
      },
      user: { ...id, description: 'entries whose actor or subject is this user id' },
      actor: { ...id, description: 'entries this user id did' },
      subject: { ...id, description: 'entries about this user id' },
      since: { ...instant, description: 'entries at or after this time (RFC 3339)' },
      until: { ...instant, description: 'entries at or before this time (RFC 3339)' },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['items', 'next_cursor'],
      additionalProperties: false,
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'at', 'type', 'actor_id', 'subject_id', 'ip', 'user_agent', 'details'],
            properties: {
              id: { type: 'integer', description: 'Position in the hash chain.' },
              at: { type: 'string', format: 'date-time' },
              type: { type: 'string' },
              actor_id: { type: ['string', 'null'] },
              subject_id: { type: ['string', 'null'] },
              ip: { type: ['string', 'null'] },
              user_agent: { type: ['string', 'null'] },
              details: { type: 'object', additionalProperties: true },
              prev_hash: { type: 'string' },
              hash: { type: 'string' },
            },
          },
        },
        next_cursor: { type: ['string', 'null'] },
      },
    },
  },
} as const;

// RFC 3339 with a zone, so that the same text means the same instant on every server.
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:\d\d)$/i;

function time(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = RFC3339.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new ValidationError('The request failed validation.', [
      { field, message: 'must be an RFC 3339 date-time with a zone, e.g. 2026-11-23T15:00:00Z' },
    ]);
  }
  return ms;
}

// The cursor is the seq of the last entry of the previous page.
const cursor = cursorOf(/^a[1-9]\d{0,15}$/);

function view(e: AuditEntry): Record<string, unknown> {
  let details: unknown;
  try {
    details = JSON.parse(e.details);
  } catch {
    // A row edited by hand may hold anything; show it rather than fail the whole page.
    details = { unparsable: e.details.slice(0, 200) };
  }
  return {
    id: e.seq,
    at: new Date(e.at).toISOString(),
    type: e.type,
    actor_id: e.actorId,
    subject_id: e.subjectId,
    ip: e.ip,
    user_agent: e.userAgent,
    details: details !== null && typeof details === 'object' ? details : { value: details },
    prev_hash: e.prevHash,
    hash: e.hash,
  };
}

export const auditLog = route<{ Querystring: AuditListQuery }>({
  schema: {
    tags: ['admin'],
    summary: 'Audit log, newest first (filters: type, user, actor, subject, since, until)',
    security: [{ oauth2: ['admin'] }],
    ...auditListSchema,
    response: { ...auditListSchema.response, ...errorResponses([401, 403, 422]) },
  },
  handler: (s) => async (request) => {
    const q = request.query;
    const limit = pageLimit(q.limit);
    const query: AuditQuery = { limit: limit + 1 };
    const before = cursor.decode(q.cursor);
    if (before !== undefined) query.beforeSeq = Number(before.slice(1));
    if (q.type) query.types = q.type.split(',');
    if (q.user) query.userId = q.user;
    if (q.actor) query.actorId = q.actor;
    if (q.subject) query.subjectId = q.subject;
    const since = time(q.since, 'since');
    const until = time(q.until, 'until');
    if (since !== undefined) query.since = since;
    if (until !== undefined) query.until = until;
    const rows = await listAudit(s, query);
    return page(rows, limit, view, (last) => cursor.encode(`a${last.seq}`));
  },
});
