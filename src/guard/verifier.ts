// The guard's verifier: checks Portcullis access tokens locally, through the issuer's JWKS (fetched,
// cached, refetched for an unknown kid) or a shared HS256 secret. Imports nothing of the server.
import {
  createRemoteJWKSet,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from 'jose';

export interface GuardClaims extends JWTPayload {
  sub: string;
  sid: string;
  jti: string;
  scope: string;
  client_id: string;
  preferred_username?: string;
  /** The scope as a list. */
  scopes: string[];
}

export interface VerifierOptions {
  /** Portcullis's ISSUER, character for character. */
  issuer: string;
  /** Defaults to the issuer (Portcullis's default AUDIENCE). */
  audience?: string;
  /** Defaults to `${issuer}/.well-known/jwks.json`. */
  jwksUri?: string;
  /** The shared SECRET_KEY when Portcullis runs with ALGORITHM=HS256. */
  secret?: string | Uint8Array;
  /** Accepted algorithms; default ['HS256'] with a secret, else ['ES256']. */
  algorithms?: string[];
  /** Least time between two JWKS fetches for unknown kids; default 5 s. */
  jwksCooldownMs?: number;
  /** Optional deny-list check (e.g. backed by Redis): return true to refuse the token. */
  isRevoked?: (claims: GuardClaims) => boolean | Promise<boolean>;
}

export class GuardError extends Error {
  readonly status: 401 | 403;
  readonly scope: string | undefined;

  constructor(status: 401 | 403, message: string, scope?: string) {
    super(message);
    this.name = 'GuardError';
    this.status = status;
    this.scope = scope;
  }
}

export interface Verifier {
  verify(token: string): Promise<GuardClaims>;
}

const LEEWAY_SECONDS = 5;
// Headers that carry or point at keys are never honoured (RFC 8725 §3.1).
const FORBIDDEN = ['jwk', 'jku', 'x5u', 'x5c'];

export function createVerifier(options: VerifierOptions): Verifier {
  const base = options.issuer.replace(/\/+$/, '');
  const algorithms = options.algorithms ?? (options.secret ? ['HS256'] : ['ES256']);
  const key: Uint8Array | JWTVerifyGetKey = options.secret
    ? typeof options.secret === 'string'
      ? new TextEncoder().encode(options.secret)
      : options.secret
    : createRemoteJWKSet(new URL(options.jwksUri ?? `${base}/.well-known/jwks.json`), {
        // A new kid (a rotation) is fetched at once, but at most once per cooldown, so random kids
        // cannot turn the guard into a load generator against the issuer.
        cooldownDuration: options.jwksCooldownMs ?? 5_000,
        cacheMaxAge: 10 * 60_000,
      });

  return {
    async verify(token) {
      if (typeof token !== 'string' || token.length > 4096 || token.split('.').length !== 3) {
        throw new GuardError(401, 'The access token is malformed.');
      }
      let payload: JWTPayload;
      let header: Record<string, unknown>;
      try {
        // Two calls because jose overloads the key parameter (a secret or a key-set function).
        const result =
          typeof key === 'function'
            ? await jwtVerify(token, key, verifyOptions(options, algorithms))
            : await jwtVerify(token, key, verifyOptions(options, algorithms));
        payload = result.payload;
        header = result.protectedHeader as Record<string, unknown>;
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired)
          throw new GuardError(401, 'The access token has expired.');
        if (error instanceof joseErrors.JOSEError)
          throw new GuardError(401, 'The access token is invalid.');
        throw error;
      }
      if (FORBIDDEN.some((name) => name in header))
        throw new GuardError(401, 'The access token is invalid.');
      const claims = shape(payload);
      if (options.isRevoked && (await options.isRevoked(claims))) {
        throw new GuardError(401, 'The access token has been revoked.');
      }
      return claims;
    },
  };
}

function verifyOptions(options: VerifierOptions, algorithms: string[]) {
  return {
    algorithms,
    typ: 'at+jwt',
    issuer: options.issuer,
    audience: options.audience ?? options.issuer,
    requiredClaims: ['iss', 'aud', 'sub', 'exp', 'iat', 'jti', 'sid'],
    clockTolerance: LEEWAY_SECONDS,
  };
}

function shape(payload: JWTPayload): GuardClaims {
  const { sub, sid, jti, scope, client_id: clientId, iat } = payload;
  if (typeof sub !== 'string' || typeof sid !== 'string' || typeof jti !== 'string') {
    throw new GuardError(401, 'The access token is missing a required claim.');
  }
  if (typeof iat !== 'number' || iat > Date.now() / 1000 + LEEWAY_SECONDS) {
    throw new GuardError(401, 'The access token was issued in the future.');
  }
  const text = typeof scope === 'string' ? scope : '';
  return {
    ...payload,
    sub,
    sid,
    jti,
    scope: text,
    client_id: typeof clientId === 'string' ? clientId : '',
    scopes: text.split(' ').filter(Boolean),
  };
}

/** Throws 403 unless the claims carry every scope named. */
export function requireScopes(claims: GuardClaims, ...scopes: string[]): void {
  const missing = scopes.find((s) => !claims.scopes.includes(s));
  if (missing) throw new GuardError(403, `This needs the ${missing} scope.`, missing);
}

/** Superusers' tokens carry the admin scope. */
export function requireSuperuser(claims: GuardClaims): void {
  requireScopes(claims, 'admin');
}
