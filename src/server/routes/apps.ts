// "Apps with access": the apps the caller has let in, and revoking one.
import { listApps, revokeApp } from '../../auth/oauth/index.ts';
import { callerOf } from '../authenticate.ts';
import { route } from '../route.ts';
import { errorResponses, object, str } from '../schemas.ts';

const tags = ['account'];
const security = [{ oauth2: [] }];
const time = { type: ['string', 'null'], format: 'date-time' } as const;

export const list = route({
  schema: {
    tags,
    summary: 'Apps with access to the account (consented to, or holding a live session)',
    security,
    response: {
      200: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['client_id', 'name', 'scope', 'first_party', 'consented_at', 'last_used_at'],
          properties: {
            client_id: { type: 'string' },
            name: { type: 'string' },
            scope: { type: 'string' },
            first_party: { type: 'boolean' },
            consented_at: time,
            last_used_at: time,
          },
        },
      },
      ...errorResponses([401]),
    },
  },
  handler: (s) => async (request) => {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return (await listApps(s, callerOf(request).userId)).map((app) => ({
      client_id: app.clientId,
      name: app.name,
      scope: app.scope.join(' '),
      first_party: app.firstParty,
      consented_at: iso(app.consentedAt),
      last_used_at: iso(app.lastUsedAt),
    }));
  },
});

export const revoke = route<{ Params: { client_id: string } }>({
  schema: {
    tags,
    summary: 'Revoke an app: its sessions end and its consent is forgotten',
    security,
    params: object(['client_id'], { client_id: str(128) }),
    response: { 204: { type: 'null', description: 'Done.' }, ...errorResponses([401, 403, 404]) },
  },
  handler: (s) => async (request, reply) => {
    await revokeApp(s, callerOf(request).userId, request.params.client_id);
    return reply.code(204).send();
  },
});
