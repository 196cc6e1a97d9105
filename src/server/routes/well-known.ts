// Discovery and health: JWKS, RFC 8414 metadata, liveness and readiness.
import { MFA_OTP_GRANT } from '../../auth/login/index.ts';
import type { Services } from '../../auth/services.ts';
import { OIDC_SCOPES } from '../../auth/sessions/index.ts';
import { route } from '../route.ts';

const jwksSchema = {
  type: 'object',
  required: ['keys'],
  properties: {
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kty', 'kid', 'alg', 'use'],
        // Only public members are listed: a private field (d, p, q, k…) can never be serialised.
        additionalProperties: false,
        properties: Object.fromEntries(
          ['kty', 'kid', 'alg', 'use', 'crv', 'x', 'y', 'n', 'e'].map((k) => [
            k,
            { type: 'string' },
          ]),
        ),
      },
    },
  },
} as const;

const strings = { type: 'array', items: { type: 'string' } } as const;
const metadataSchema = {
  type: 'object',
  required: ['issuer', 'token_endpoint', 'jwks_uri', 'response_types_supported'],
  properties: {
    issuer: { type: 'string' },
    token_endpoint: { type: 'string' },
    revocation_endpoint: { type: 'string' },
    introspection_endpoint: { type: 'string' },
    jwks_uri: { type: 'string' },
    grant_types_supported: strings,
    response_types_supported: strings,
    scopes_supported: strings,
    token_endpoint_auth_methods_supported: strings,
    revocation_endpoint_auth_methods_supported: strings,
    introspection_endpoint_auth_methods_supported: strings,
    service_documentation: { type: 'string' },
    authorization_endpoint: { type: 'string' },
    userinfo_endpoint: { type: 'string' },
    end_session_endpoint: { type: 'string' },
    response_modes_supported: strings,
    subject_types_supported: strings,
    id_token_signing_alg_values_supported: strings,
    code_challenge_methods_supported: strings,
    claims_supported: strings,
    prompt_values_supported: strings,
    authorization_response_iss_parameter_supported: { type: 'boolean' },
    claims_parameter_supported: { type: 'boolean' },
    request_parameter_supported: { type: 'boolean' },
    request_uri_parameter_supported: { type: 'boolean' },
  },
} as const;

const statusSchema = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string' },
    checks: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

/** RFC 8414 metadata of this issuer; OpenID Connect Discovery's document is the same one. */
function metadataOf(s: Services) {
  const base = s.config.issuer.replace(/\/+$/, '');
  return {
    issuer: s.config.issuer,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    userinfo_endpoint: `${base}/userinfo`,
    end_session_endpoint: `${base}/logout`,
    revocation_endpoint: `${base}/revoke`,
    introspection_endpoint: `${base}/introspect`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    grant_types_supported: [
      'authorization_code',
      'client_credentials',
      'refresh_token',
      'password',
      MFA_OTP_GRANT,
    ],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    subject_types_supported: ['public'],
    // RS256 is the algorithm OpenID Connect requires every provider to offer.
    id_token_signing_alg_values_supported: ['RS256', 'ES256'],
    code_challenge_methods_supported: ['S256'],
    prompt_values_supported: ['none', 'login', 'consent'],
    scopes_supported: [...new Set([...OIDC_SCOPES, ...s.config.scopes])],
    claims_supported: [
      'iss',
      'sub',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'nonce',
      'sid',
      'at_hash',
      'email',
      'email_verified',
      'preferred_username',
      'updated_at',
    ],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    introspection_endpoint_auth_methods_supported: ['bearer'],
    authorization_response_iss_parameter_supported: true,
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    service_documentation: `${s.config.publicUrl.replace(/\/+$/, '')}/docs`,
  };
}

export const jwks = route({
  schema: {
    tags: ['discovery'],
    summary: 'Public signing keys',
    response: { 200: jwksSchema },
  },
  handler: (s) => async (_request, reply) => {
    // Short cache: a rotated-in key must reach resource servers quickly.
    return reply.header('cache-control', 'public, max-age=300').send(s.keys.jwks());
  },
});

export const metadata = route({
  schema: {
    tags: ['discovery'],
    summary: 'RFC 8414 metadata (also at /.well-known/openid-configuration)',
    response: { 200: metadataSchema },
  },
  handler: (s) => {
    const body = metadataOf(s);
    return async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=3600').send(body);
  },
});

export const liveness = route({
  schema: { tags: ['health'], summary: 'Liveness', response: { 200: statusSchema } },
  handler: () => async () => ({ status: 'ok' }),
});

export const readiness = route({
  schema: {
    tags: ['health'],
    summary: 'Readiness: the database (and Redis, when configured) answers',
    response: { 200: statusSchema, 503: statusSchema },
  },
  handler: (s) => async (_request, reply) => {
    const checks: Record<string, string> = {};
    const probes: Array<[string, () => Promise<void>]> = [['database', () => s.store.ping()]];
    // Redis, when configured, holds the shared counters and carries revocations: it must answer.
    if (s.kv.kind === 'redis') probes.push(['redis', () => s.kv.ping()]);
    for (const [name, probe] of probes) {
      try {
        await probe();
        checks[name] = 'ok';
      } catch (error) {
        reply.log.warn({ err: error }, `readiness check failed: ${name}`);
        checks[name] = 'failing';
      }
    }
    if (Object.values(checks).every((v) => v === 'ok')) return { status: 'ready', checks };
    return reply.code(503).send({ status: 'unavailable', checks });
  },
});
