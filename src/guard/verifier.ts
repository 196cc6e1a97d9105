// The guard's verifier: checks Portcullis access tokens locally, through the issuer's JWKS (fetched,
// cached, refetched for an unknown kid) or a shared HS256 secret. Imports nothing of the server, the
// store or the kv: the token rules are the server's own pure ones (tokens/rules.ts).
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { hmacKeyId } from '../tokens/hmac-kid.ts';
import {
  type ClaimRules,
  claimsRefusal,
  compactRefusal,
  headerRefusal,
  joseOptions,
} from '../tokens/rules.ts';
import { createRedisRevocations } from './redis-revocations.ts';

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

type Secret = string | Uint8Array;

export interface VerifierOptions {
  /** Portcullis's ISSUER, character for character. */
  issuer: string;
  /** Defaults to the issuer (Portcullis's default AUDIENCE). */
  audience?: string;
  /** Defaults to `${issuer}/.well-known/jwks.json`. */
  jwksUri?: string;
  /**
   * The shared SECRET_KEY when Portcullis runs with ALGORITHM=HS256; during a rotation a list, the
   * current SECRET_KEY first and then PREVIOUS_SECRET_KEYS, as Portcullis has them.
   */
  secret?: Secret | readonly Secret[];
  /** Accepted algorithms; default ['HS256'] with a secret, else ['ES256']. */
  algorithms?: string[];
  /** Least time between two JWKS fetches for unknown kids; default 5 s. */
  jwksCooldownMs?: number;
  /** Optional deny-list check of your own: return true to refuse the token. */
  isRevoked?: (claims: GuardClaims) => boolean | Promise<boolean>;
  /**
   * Portcullis's REDIS_URL: sessions ended on the server (logout, revocation, password change,
   * deactivation) are refused here too, within milliseconds, checked in memory (see
   * redis-revocations.ts). Call `close()` when done.
   */
  redisUrl?: string;
  /** Portcullis's REDIS_PREFIX, when it is not the default `portcullis:`. */
  redisPrefix?: string;
  /** Told about Redis connection trouble (verification goes on with what it has). */
  onRedisError?: (error: Error) => void;
  /** Refuse tokens older than this (by iat); Portcullis's ACCESS_TOKEN_TTL_SECONDS is the natural value. */
  maxTokenAgeSeconds?: number;
  /** The time in milliseconds; default Date.now (tests pass the issuer's clock). */
  clock?: () => number;
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
  /** Resolves once the revocations of the last token lifetime are loaded (at once without Redis). */
  ready: Promise<void>;
  /** Releases the Redis connection, if any. */
  close(): Promise<void>;
}

export function createVerifier(options: VerifierOptions): Verifier {
  const base = options.issuer.replace(/\/+$/, '');
  const algorithms = options.algorithms ?? (secretList(options.secret) ? ['HS256'] : ['ES256']);
  const clock = options.clock ?? Date.now;
  const secrets = secretList(options.secret);
  const key: Uint8Array | JWTVerifyGetKey = secrets
    ? hmacKeyFor(secrets)
    : createRemoteJWKSet(new URL(options.jwksUri ?? `${base}/.well-known/jwks.json`), {
        // A new kid (a rotation) is fetched at once, but at most once per cooldown, so random kids
        // cannot turn the guard into a load generator against the issuer.
        cooldownDuration: options.jwksCooldownMs ?? 5_000,
        cacheMaxAge: 10 * 60_000,
      });

  const revocations =
    options.redisUrl === undefined
      ? undefined
      : createRedisRevocations({
          redisUrl: options.redisUrl,
          ...(options.redisPrefix === undefined ? {} : { prefix: options.redisPrefix }),
          lookbackMs: (options.maxTokenAgeSeconds ?? 15 * 60) * 1000 + 60_000,
          ...(options.onRedisError === undefined ? {} : { onError: options.onRedisError }),
          clock,
        });

  return {
    ready: revocations?.ready ?? Promise.resolve(),
    close: async () => revocations?.close(),
    async verify(token) {
      // The server's own rules (tokens/rules.ts), in the server's order: what it refuses, we refuse.
      const malformed = compactRefusal(token);
      if (malformed) throw new GuardError(401, malformed);
      let header: unknown;
      try {
        header = decodeProtectedHeader(token);
      } catch {
        throw new GuardError(401, 'The access token is malformed.');
      }
      const refused = headerRefusal(header, algorithms);
      if (refused) throw new GuardError(401, refused);
      const rules: ClaimRules = {
        issuer: options.issuer,
        audience: options.audience ?? options.issuer,
        nowMs: clock(),
        maxTokenAgeSeconds: options.maxTokenAgeSeconds,
      };
      let payload: JWTPayload;
      try {
        // Two calls because jose overloads the key parameter (a secret or a key-set function).
        const result =
          typeof key === 'function'
            ? await jwtVerify(token, key, joseOptions(algorithms, rules))
            : await jwtVerify(token, key, joseOptions(algorithms, rules));
        payload = result.payload;
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired)
          throw new GuardError(401, 'The access token has expired.');
        if (error instanceof joseErrors.JOSEError)
          throw new GuardError(401, 'The access token is invalid.');
        throw error;
      }
      const claimsRefused = claimsRefusal(payload, { ...rules, nowMs: clock() });
      if (claimsRefused) throw new GuardError(401, claimsRefused);
      const claims = shape(payload);
      if (
        revocations?.isRevoked(claims) ||
        (options.isRevoked && (await options.isRevoked(claims)))
      ) {
        throw new GuardError(401, 'The access token has been revoked.');
      }
      return claims;
    },
  };
}

/** The secrets as bytes, current first; undefined when none is given (JWKS mode). */
function secretList(secret: VerifierOptions['secret']): Uint8Array[] | undefined {
  if (secret === undefined) return undefined;
  const list = (typeof secret === 'string' || secret instanceof Uint8Array ? [secret] : secret)
    .map((s) => (typeof s === 'string' ? new TextEncoder().encode(s) : s))
    .filter((s) => s.byteLength > 0);
  return list.length > 0 ? list : undefined;
}

/**
 * One secret: that one. Several: the one the token's kid names (Portcullis names each HS256 secret,
 * see tokens/hmac-kid.ts), else the current one, so one signature check is made whatever the list.
 */
function hmacKeyFor(secrets: Uint8Array[]): Uint8Array | JWTVerifyGetKey {
  const [current] = secrets as [Uint8Array, ...Uint8Array[]];
  if (secrets.length === 1) return current;
  const byKid = new Map(secrets.map((s) => [hmacKeyId(s), s]));
  return (header) => (typeof header.kid === 'string' && byKid.get(header.kid)) || current;
}

/** The verified payload as GuardClaims (claimsRefusal has checked every member's type). */
function shape(payload: JWTPayload): GuardClaims {
  const text = typeof payload.scope === 'string' ? payload.scope : '';
  return {
    ...(payload as GuardClaims),
    scope: text,
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
