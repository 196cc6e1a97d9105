// The client registry of the admin API (superusers): register, list, show, change and delete
// OAuth clients, and give a confidential client a new secret.
// HTTP only: parse, call the rules, shape the answer.
import {
  type ClientInput,
  type ClientPatchInput,
  createClient,
  deleteClient,
  getClient,
  listClients,
  rotateClientSecret,
  updateClient,
} from '../../auth/clients/index.ts';
import { callerOf } from '../authenticate.ts';
import { cursorOf, page, pageLimit, pageQuery, pageSchema } from '../pagination.ts';
import { route } from '../route.ts';
import { clientView, errorResponses, object, ref, str } from '../schemas.ts';

const tags = ['admin'];
const security = [{ oauth2: ['admin'] }];
const noContent = { 204: { type: 'null', description: 'Done.' } };
const params = object(['client_id'], { client_id: str(64) });

const uriList = { type: 'array', maxItems: 20, items: str(2000) };
const inputFields = {
  name: str(100),
  redirect_uris: uriList,
  post_logout_redirect_uris: uriList,
  grant_types: {
    type: 'array',
    maxItems: 3,
    items: { type: 'string', enum: ['authorization_code', 'refresh_token', 'client_credentials'] },
  },
  scope: {
    ...str(1000),
    description: 'Space-delimited; within SCOPES and openid, profile, email, offline_access.',
  },
  token_endpoint_auth_method: {
    type: 'string',
    enum: ['none', 'client_secret_basic', 'client_secret_post'],
    description:
      'Default `none` (a public client); the others make it confidential, with a secret.',
  },
  id_token_signed_response_alg: { type: 'string', enum: ['RS256', 'ES256'] },
  first_party: { type: 'boolean' },
};

// The cursor is the last client_id of the previous page.
const cursor = cursorOf(/^[A-Za-z0-9_-]{1,64}$/);

export const list = route<{ Querystring: { limit?: string; cursor?: string } }>({
  schema: {
    tags,
    summary: 'List OAuth clients (cursor pagination, in client_id order)',
    security,
    querystring: object([], {
      ...pageQuery,
    }),
    response: {
      200: pageSchema('Client'),
      ...errorResponses([401, 403, 422]),
    },
  },
  handler: (s) => async (request) => {
    const limit = pageLimit(request.query.limit);
    const after = cursor.decode(request.query.cursor);
    const rows = await listClients(s, { limit: limit + 1, after });
    return page(rows, limit, clientView, (last) => cursor.encode(last.clientId));
  },
});

export const create = route<{ Body: ClientInput }>({
  schema: {
    tags,
    summary: 'Register an OAuth client; a confidential one’s client_secret is in this answer only',
    security,
    body: object(['name'], inputFields),
    response: { 201: ref('ClientWithSecret'), ...errorResponses([401, 403, 422]) },
  },
  handler: (s) => async (request, reply) => {
    const { client, clientSecret } = await createClient(s, request.body, callerOf(request).userId);
    return reply
      .code(201)
      .send(
        clientSecret === undefined
          ? clientView(client)
          : { ...clientView(client), client_secret: clientSecret },
      );
  },
});

export const show = route<{ Params: { client_id: string } }>({
  schema: {
    tags,
    summary: 'Show an OAuth client',
    security,
    params,
    response: { 200: ref('Client'), ...errorResponses([401, 403, 404]) },
  },
  handler: (s) => async (request) => clientView(await getClient(s, request.params.client_id)),
});

export const update = route<{ Params: { client_id: string }; Body: ClientPatchInput }>({
  schema: {
    tags,
    summary:
      'Change an OAuth client; made confidential, its first client_secret is in this answer only',
    security,
    params,
    body: { ...object([], inputFields), minProperties: 1 },
    response: { 200: ref('ClientWithSecret'), ...errorResponses([401, 403, 404, 422]) },
  },
  handler: (s) => async (request) => {
    const { client, clientSecret } = await updateClient(
      s,
      request.params.client_id,
      request.body,
      callerOf(request).userId,
    );
    return clientSecret === undefined
      ? clientView(client)
      : { ...clientView(client), client_secret: clientSecret };
  },
});

export const remove = route<{ Params: { client_id: string } }>({
  schema: {
    tags,
    summary: 'Delete an OAuth client; its sessions end and their tokens stop working at once',
    security,
    params,
    response: { ...noContent, ...errorResponses([401, 403, 404]) },
  },
  handler: (s) => async (request, reply) => {
    await deleteClient(s, request.params.client_id, callerOf(request).userId);
    return reply.code(204).send();
  },
});

export const rotateSecret = route<{ Params: { client_id: string } }>({
  schema: {
    tags,
    summary:
      'A new client_secret for a confidential client (the old one stops working); 409 for a public client',
    security,
    params,
    response: {
      200: object(['client_secret'], { client_secret: { type: 'string' } }),
      ...errorResponses([401, 403, 404, 409]),
    },
  },
  handler: (s) => async (request) => ({
    client_secret: await rotateClientSecret(s, request.params.client_id, callerOf(request).userId),
  }),
});
