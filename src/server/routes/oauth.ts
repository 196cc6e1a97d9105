// The OAuth endpoints: /token (RFC 6749), /revoke (RFC 7009), /introspect (RFC 7662).
// Form-encoded or JSON in; application/json out, errors as RFC 6749 §5.2 — never problem+json.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { completeSecondFactor, MFA_OTP_GRANT, passwordLogin } from '../../auth/login/index.ts';
import type { Services } from '../../auth/services.ts';
import {
  type AccessClaims,
  inspectToken,
  refresh,
  revokeToken,
  type TokenStatus,
} from '../../auth/sessions/index.ts';
import { AppError } from '../../errors/index.ts';
import { clientInfo } from '../authenticate.ts';
import { formBodies } from '../body-parsers.ts';
import { sendOAuthError, toAppError } from '../errors.ts';
import { route } from '../route.ts';
import { errorResponses, ref } from '../schemas.ts';

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
}

const text = { type: 'string', maxLength: 8192 } as const;

const tokenSchema = {
  summary: 'OAuth2 token endpoint (password, refresh_token and mfa-otp grants)',
  tags: ['oauth'],
  consumes: ['application/x-www-form-urlencoded', 'application/json'],
  body: {
    type: 'object',
    properties: {
      grant_type: { ...text, description: `password (default), refresh_token or ${MFA_OTP_GRANT}` },
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
  response: { 200: ref('TokenPair'), ...errorResponses([400, 401, 413, 429, 503], 'OAuthError') },
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

/** Client credentials from the body or HTTP Basic (RFC 6749 §2.3.1), as Swagger UI sends them. */
function basicCredentials(request: FastifyRequest): { client_id?: string; client_secret?: string } {
  const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(request.headers.authorization ?? '');
  if (!match?.[1]) return {};
  const [id = '', ...secret] = Buffer.from(match[1], 'base64').toString('utf8').split(':');
  return { client_id: formDecode(id), client_secret: formDecode(secret.join(':')) };
}

function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    throw new AppError('invalid_client', 'The Basic credentials are malformed.');
  }
}

/** Public clients only: a client_id is recorded, a client secret is refused (there are none). */
function clientId(
  s: Services,
  request: FastifyRequest,
  body: { client_id?: string; client_secret?: string },
): string {
  const basic = basicCredentials(request);
  // No confidential clients exist, so a secret can only be a mistake or a probe: refuse it.
  if (body.client_secret || basic.client_secret) {
    throw new AppError(
      'invalid_client',
      'Client authentication is not supported: public clients only.',
    );
  }
  const id = body.client_id || basic.client_id;
  if (id === undefined || id === '') return s.config.defaultClientId;
  if (!/^[\x20-\x7E]{1,128}$/.test(id))
    throw new AppError('invalid_request', 'client_id is malformed.');
  return id;
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
    username,
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
    sendOAuthError(reply, toAppError(error, request));
  });
}

export const token = route<{ Body: TokenBody | undefined }>({
  schema: tokenSchema,
  handler: (s) => async (request, reply) => {
    const body = request.body ?? {};
    const client = clientInfo(request, clientId(s, request, body));
    // FastAPI's OAuth2PasswordRequestForm clients send no grant_type: password is the default.
    const grant = body.grant_type || 'password';
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
    if (grant === 'refresh_token') {
      const result = await refresh(s, required(body.refresh_token, 'refresh_token'), body.scope);
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
