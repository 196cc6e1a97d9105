// JSON schemas shared by the routes. Response schemas double as a filter: a field that is not listed
// (a password hash, a secret) can never reach a client.
import type { Client, User } from '../store/index.ts';

export const userSchema = {
  $id: 'User',
  type: 'object',
  required: [
    'id',
    'email',
    'username',
    'is_active',
    'is_superuser',
    'is_verified',
    'scopes',
    'created_at',
  ],
  additionalProperties: false,
  properties: {
    id: { type: 'string', description: 'Stable id; the `sub` of the user’s tokens.' },
    email: { type: 'string' },
    username: { type: 'string' },
    is_active: { type: 'boolean' },
    is_superuser: { type: 'boolean' },
    is_verified: { type: 'boolean' },
    scopes: { type: 'array', items: { type: 'string' } },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

/** A user as the admin list shows it: the user and how many passkeys they have. */
export const adminUserSchema = {
  ...userSchema,
  $id: 'AdminUser',
  required: [...userSchema.required, 'passkey_count'],
  properties: {
    ...userSchema.properties,
    passkey_count: { type: 'integer', description: 'How many passkeys the user has registered.' },
  },
} as const;

export interface UserView {
  id: string;
  email: string;
  username: string;
  is_active: boolean;
  is_superuser: boolean;
  is_verified: boolean;
  scopes: string[];
  created_at: string;
}

export function userView(user: User): UserView {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    is_active: user.isActive,
    is_superuser: user.isSuperuser,
    is_verified: user.isVerified,
    scopes: user.scopes,
    created_at: new Date(user.createdAt).toISOString(),
  };
}

const clientProperties = {
  client_id: { type: 'string' },
  name: { type: 'string' },
  redirect_uris: { type: 'array', items: { type: 'string' } },
  post_logout_redirect_uris: { type: 'array', items: { type: 'string' } },
  grant_types: {
    type: 'array',
    items: { type: 'string', enum: ['authorization_code', 'refresh_token', 'client_credentials'] },
  },
  scope: { type: 'string', description: 'Space-delimited scopes the client may ask for.' },
  token_endpoint_auth_method: {
    type: 'string',
    enum: ['none', 'client_secret_basic', 'client_secret_post'],
    description: '`none` for a public client; confidential clients have a secret.',
  },
  id_token_signed_response_alg: { type: 'string', enum: ['RS256', 'ES256'] },
  first_party: { type: 'boolean', description: 'First-party clients skip the consent page.' },
  created_at: { type: 'string', format: 'date-time' },
} as const;

const clientRequired = Object.keys(clientProperties);

// No secret_hash here: the schema is also the filter of what leaves the server.
export const clientSchema = {
  $id: 'Client',
  type: 'object',
  description: 'A registered OAuth client.',
  required: clientRequired,
  additionalProperties: false,
  properties: clientProperties,
} as const;

export const clientWithSecretSchema = {
  $id: 'ClientWithSecret',
  type: 'object',
  description:
    'A client just registered; `client_secret` (confidential clients only) is shown once.',
  required: clientRequired,
  additionalProperties: false,
  properties: {
    ...clientProperties,
    client_secret: { type: 'string', description: 'Shown only in this answer; stored as a hash.' },
  },
} as const;

export interface ClientView {
  client_id: string;
  name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  scope: string;
  token_endpoint_auth_method: string;
  id_token_signed_response_alg: string;
  first_party: boolean;
  created_at: string;
}

export function clientView(client: Client): ClientView {
  return {
    client_id: client.clientId,
    name: client.name,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    grant_types: client.grantTypes,
    scope: client.scope.join(' '),
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    first_party: client.firstParty,
    created_at: new Date(client.createdAt).toISOString(),
  };
}

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details, with a stable `code`.',
  required: ['type', 'title', 'status', 'detail', 'code'],
  additionalProperties: true,
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

export const oauthErrorSchema = {
  $id: 'OAuthError',
  type: 'object',
  description: 'RFC 6749 §5.2 error.',
  required: ['error'],
  additionalProperties: true,
  properties: { error: { type: 'string' }, error_description: { type: 'string' } },
} as const;

export const tokenPairSchema = {
  $id: 'TokenPair',
  type: 'object',
  required: ['access_token', 'token_type', 'expires_in', 'refresh_token', 'scope'],
  additionalProperties: false,
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string', enum: ['bearer'] },
    expires_in: { type: 'integer' },
    refresh_token: { type: 'string' },
    scope: { type: 'string' },
  },
} as const;

export const sessionSchema = {
  $id: 'Session',
  type: 'object',
  required: ['id', 'created_at', 'last_used_at', 'user_agent', 'ip', 'current'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    last_used_at: { type: 'string', format: 'date-time' },
    user_agent: { type: ['string', 'null'] },
    ip: { type: ['string', 'null'] },
    current: { type: 'boolean' },
  },
} as const;

export const browserSessionSchema = {
  $id: 'BrowserSession',
  type: 'object',
  description:
    'Cookie mode: the tokens are in HttpOnly cookies; send `csrf_token` as `X-CSRF-Token` on state changes.',
  required: ['user', 'csrf_token', 'expires_in'],
  additionalProperties: false,
  properties: {
    user: { $ref: 'User#' },
    csrf_token: { type: 'string' },
    expires_in: { type: 'integer', description: 'Seconds until the access cookie expires.' },
  },
} as const;

/** A string field of at most `max` characters. */
export const str = (max: number) => ({ type: 'string', maxLength: max }) as const;

/** A closed object: unknown members are dropped by the validator, never honoured. */
export const object = (required: string[], properties: Record<string, unknown>) => ({
  type: 'object',
  required,
  additionalProperties: false,
  properties,
});

export const ref = (id: string): { $ref: string } => ({ $ref: `${id}#` });

/** Error answers for the documentation; `ids` picks problem or OAuth bodies. */
export function errorResponses(
  codes: number[],
  id: 'Problem' | 'OAuthError' = 'Problem',
): Record<number, unknown> {
  return Object.fromEntries(codes.map((c) => [c, ref(id)]));
}

export const sharedSchemas = [
  userSchema,
  adminUserSchema,
  clientSchema,
  clientWithSecretSchema,
  problemSchema,
  oauthErrorSchema,
  tokenPairSchema,
  sessionSchema,
  browserSessionSchema,
];
