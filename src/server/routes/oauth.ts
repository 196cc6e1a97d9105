// The OAuth endpoints: /token (RFC 6749), /revoke (RFC 7009), /introspect (RFC 7662).
// Form-encoded or JSON in; application/json out, errors as RFC 6749 §5.2 — never problem+json.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { completeSecondFactor, MFA_OTP_GRANT, passwordLogin } from '../../auth/login/index.ts';
import {
  authenticateClient,
  clientCredentials,
  exchangeCode,
  mustBeRegistered,
  readPublicExchange,
  refreshGrant,
  type TokenClient,
  userInfo,
} from '../../auth/oauth/index.ts';
import type { Services } from '../../auth/services.ts';
import {
  type AccessClaims,
  inspectToken,
  revokeToken,
  type TokenStatus,
} from '../../auth/sessions/index.ts';
import { AppError, AuthenticationError } from '../../errors/index.ts';
import { bearerToken, clientInfo } from '../authenticate.ts';
import { formBodies } from '../body-parsers.ts';
import { sendOAuthError, toAppError } from '../errors.ts';
import { route } from '../route.ts';
import { errorResponses } from '../schemas.ts';

interface TokenBody {
  grant_type?: string;
  username?: string;
  password?: string;
  scope?: string;
  refresh_token?: string;
  client_id?: string;
  client_secret?: string;
  mfa_token?: string;
  otp?: string;
  code?: string;
  redirect_uri?: string;
  code_verifier?: string;
}

const text = { type: 'string', maxLength: 8192 } as const;

const tokenSchema = {
  summary:
    'OAuth2 token endpoint (authorization_code, client_credentials, refresh_token, password and mfa-otp grants)',
  description:
    'Confidential clients authenticate with HTTP Basic (client_secret_basic) or client_id and client_secret in the body (client_secret_post), as registered; public clients send their client_id. Unregistered client_ids are accepted for the password and refresh grants only.',
  tags: ['oauth'],
  consumes: ['application/x-www-form-urlencoded', 'application/json'],
  body: {
    type: 'object',
    properties: {
      grant_type: {
        ...text,
        description: `authorization_code, client_credentials, refresh_token, password (default) or ${MFA_OTP_GRANT}`,
      },
      code: { ...text, description: 'with grant_type=authorization_code' },
      redirect_uri: { ...text, description: 'as sent to /authorize, when it was sent' },
      code_verifier: { ...text, description: 'PKCE: the secret whose S256 is the code_challenge' },
      username: { ...text, description: 'username or email' },
      password: text,
      scope: text,
      refresh_token: text,
      client_id: text,
      client_secret: text,
      mfa_token: { ...text, description: `with grant_type=${MFA_OTP_GRANT}` },
      otp: { ...text, description: 'a TOTP code or a recovery code' },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['access_token', 'token_type', 'expires_in', 'scope'],
      properties: {
        access_token: { type: 'string' },
        token_type: { type: 'string', enum: ['bearer'] },
        expires_in: { type: 'integer' },
        scope: { type: 'string' },
        refresh_token: { type: 'string' },
        id_token: { type: 'string', description: 'with the openid scope' },
      },
    },
    ...errorResponses([400, 401, 413, 429, 503], 'OAuthError'),
  },
};

const tokenOnly = {
  type: 'object',
  properties: { token: text, token_type_hint: text, client_id: text, client_secret: text },
} as const;

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '')
    throw new AppError('invalid_request', `${name} is required.`);
  return value;
}

/** HTTP Basic client credentials (RFC 6749 §2.3.1: each part form-encoded), as Swagger UI sends them. */
function basicCredentials(request: FastifyRequest): { id: string; secret: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(request.headers.authorization ?? '');
  if (!match?.[1]) return undefined;
  const [id = '', ...secret] = Buffer.from(match[1], 'base64').toString('utf8').split(':');
  return { id: formDecode(id), secret: formDecode(secret.join(':')) };
}

function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    throw new AppError('invalid_client', 'The Basic credentials are malformed.');
  }
}

function tokenClient(
  s: Services,
  request: FastifyRequest,
  body: { client_id?: string; client_secret?: string },
): Promise<TokenClient> {
  return authenticateClient(s, {
    basic: basicCredentials(request),
    bodyId: body.client_id,
    bodySecret: body.client_secret,
  });
}

/** The password grant: the guides' unregistered clients, and the operator's own (first-party) apps. */
function passwordClient(c: TokenClient): string {
  // RFC 9700 §2.4: a third-party app must never see the user's password.
  if (c.registered && !c.client.firstParty) {
    throw new AppError('unauthorized_client', 'This client may not use the password grant.');
  }
  return c.clientId;
}

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

/** RFC 7662 answer for a live access token. */
function introspection(claims: AccessClaims, username: string): Record<string, unknown> {
  return {
    active: true,
    sub: claims.sub,
    scope: claims.scope,
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
    sid: claims.sid,
    ...(username === '' ? {} : { username }),
    client_id: claims.client_id,
    token_type: 'access_token',
    iss: claims.iss,
    aud: claims.aud,
  };
}

function introspectionOf(s: Services, status: TokenStatus): Record<string, unknown> {
  if (!status.active) return { active: false };
  if (status.type === 'access_token') return introspection(status.claims, status.username);
  return {
    active: true,
    sub: status.userId,
    scope: status.scope,
    exp: Math.floor(status.expiresAt / 1000),
    iat: Math.floor(status.issuedAt / 1000),
    sid: status.sessionId,
    username: status.username,
    client_id: status.clientId,
    token_type: 'refresh_token',
    iss: s.config.issuer,
  };
}

/** The OAuth endpoints' context: form bodies accepted, errors as RFC 6749 §5.2 bodies. */
export function oauthContext(app: FastifyInstance): void {
  formBodies(app);
  app.setErrorHandler((error, request, reply) => {
    const e = toAppError(error, request);
    // RFC 6749 §5.2: a failed Basic authentication is answered with the scheme it should use.
    if (e.code === 'invalid_client' && /^Basic /i.test(request.headers.authorization ?? '')) {
      reply.header('www-authenticate', 'Basic realm="portcullis"');
    }
    sendOAuthError(reply, e);
  });
}

export const token = route<{ Body: TokenBody | undefined }>({
  schema: tokenSchema,
  handler: (s) => async (request, reply) => {
    const body = request.body ?? {};
    // FastAPI's OAuth2PasswordRequestForm clients send no grant_type: password is the default.
    const grant = body.grant_type || 'password';
    if (grant === 'authorization_code') {
      // A public client (its client_id in the body, no secret, no Authorization header): the
      // client's row comes with the code's. Anything else authenticates the client first, as for
      // every grant (and so answers in the same order: the client, then the code).
      const fast =
        body.code &&
        body.client_id &&
        !body.client_secret &&
        request.headers.authorization === undefined
          ? await readPublicExchange(s, body.client_id, body.code)
          : undefined;
      const client = fast?.client ?? mustBeRegistered(await tokenClient(s, request, body));
      const tokens = await exchangeCode(
        s,
        client,
        {
          code: required(body.code, 'code'),
          redirectUri: body.redirect_uri || undefined,
          codeVerifier: body.code_verifier || undefined,
        },
        clientInfo(request, client.clientId),
        fast?.read,
      );
      return noStore(reply).send(tokens);
    }
    const caller = await tokenClient(s, request, body);
    if (grant === 'client_credentials') {
      return noStore(reply).send(await clientCredentials(s, mustBeRegistered(caller), body.scope));
    }
    if (grant === 'refresh_token') {
      const token = required(body.refresh_token, 'refresh_token');
      return noStore(reply).send(await refreshGrant(s, caller, token, body.scope));
    }
    const client = clientInfo(request, passwordClient(caller));
    if (grant === 'password') {
      const result = await passwordLogin(
        s,
        {
          username: required(body.username, 'username'),
          password: required(body.password, 'password'),
          scope: body.scope,
        },
        client,
      );
      return noStore(reply).send(result.tokens);
    }
    if (grant === MFA_OTP_GRANT) {
      const result = await completeSecondFactor(
        s,
        { mfaToken: required(body.mfa_token, 'mfa_token'), otp: required(body.otp, 'otp') },
        client,
      );
      return noStore(reply).send(result.tokens);
    }
    throw new AppError('unsupported_grant_type', 'This grant_type is not supported.');
  },
});

export const revoke = route<{ Body: { token?: string } | undefined }>({
  schema: {
    summary: 'Revoke a refresh or access token (RFC 7009); ends its session',
    tags: ['oauth'],
    consumes: ['application/x-www-form-urlencoded', 'application/json'],
    body: tokenOnly,
    response: {
      200: { type: 'object', additionalProperties: false, properties: {} },
      ...errorResponses([400], 'OAuthError'),
    },
  },
  handler: (s) => async (request, reply) => {
    const token = required(request.body?.token, 'token');
    // RFC 7009 §2.2: unknown or invalid tokens are answered 200 all the same.
    await revokeToken(s, token);
    return noStore(reply).send({});
  },
});

export const introspect = route<{ Body: { token?: string } | undefined }>({
  schema: {
    summary: 'Token introspection (RFC 7662); superusers only',
    tags: ['oauth'],
    security: [{ oauth2: ['admin'] }],
    consumes: ['application/x-www-form-urlencoded', 'application/json'],
    body: tokenOnly,
    response: {
      200: {
        type: 'object',
        additionalProperties: true,
        properties: { active: { type: 'boolean' } },
      },
      ...errorResponses([400, 401, 403], 'OAuthError'),
    },
  },
  handler: (s) => async (request, reply) => {
    const token = required(request.body?.token, 'token');
    return noStore(reply).send(introspectionOf(s, await inspectToken(s, token)));
  },
});

export const userinfo = route<{ Body: { access_token?: string } | undefined }>({
  schema: {
    summary: 'OpenID Connect userinfo: the claims the access token’s scopes release',
    tags: ['oauth'],
    security: [{ oauth2: ['openid'] }],
    response: {
      200: {
        type: 'object',
        required: ['sub'],
        additionalProperties: true,
        properties: {
          sub: { type: 'string' },
          email: { type: 'string' },
          email_verified: { type: 'boolean' },
          preferred_username: { type: 'string' },
          updated_at: { type: 'integer' },
        },
      },
      ...errorResponses([401, 403], 'OAuthError'),
    },
  },
  handler: (s) => async (request, reply) => {
    const token = bearerToken(request);
    // RFC 6750 §2: the header; a token in the query would end up in logs and histories.
    if (token === undefined || token === '') {
      throw new AuthenticationError('A bearer access token is required.', token === '');
    }
    return noStore(reply).send(await userInfo(s, token));
  },
});
