// RFC 9068 access tokens: issue and verify. No HTTP, no environment: everything is passed in.
import { decodeProtectedHeader, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import type { Algorithm } from '../config/settings.ts';
import { uuidv7 } from '../crypto/random.ts';
import { AuthenticationError } from '../errors/index.ts';
import { signJws } from './jws-sign.ts';
import type { KeyRing, VerifyKey } from './keys.ts';
import type { RevocationList } from './revocation.ts';
import { createVerifiedTokenCache } from './verified-cache.ts';

export interface AccessClaims {
  iss: string;
  aud: string | string[];
  sub: string;
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  sid: string;
  scope: string;
  preferred_username: string;
}

export interface AccessTokenOptions {
  algorithm: Algorithm;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  keys: KeyRing;
  revocations: RevocationList;
  clock: () => number;
  /** How many verified tokens to remember (0: verify every request in full); see verified-cache.ts. */
  verifiedCacheSize?: number;
}

export interface IssueInput {
  userId: string;
  username: string;
  sessionId: string;
  clientId: string;
  scope: string;
}

export interface AccessTokens {
  issue(input: IssueInput): Promise<{ token: string; claims: AccessClaims }>;
  /** Verify signature, claims and revocation; throws AuthenticationError (tokenSent) on any failure. */
  verify(token: string): Promise<AccessClaims>;
  /** Like verify, but only the signature and claims: for introspection and revocation of any token. */
  verifySignature(token: string): Promise<AccessClaims>;
}

// RFC 8725 §3.1 and SPEC §3: the verifier honours no header that names or carries a key elsewhere.
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'b64'] as const;
const LEEWAY_SECONDS = 5;
// Far above any token we issue (well under 1 KB); anything longer is refused before parsing.
const MAX_TOKEN_LENGTH = 4096;
const KEY_RELOAD_INTERVAL_MS = 5_000;
export const DEFAULT_VERIFIED_CACHE_SIZE = 10_000;

interface Verified {
  claims: AccessClaims;
  nbf: number | undefined;
  kid: string;
  key: VerifyKey;
}

export function createAccessTokens(options: AccessTokenOptions): AccessTokens {
  let lastReload = 0;
  const verified = createVerifiedTokenCache(
    options.verifiedCacheSize ?? DEFAULT_VERIFIED_CACHE_SIZE,
  );
  const maxAgeSeconds = options.ttlSeconds + LEEWAY_SECONDS;

  async function keyFor(kid: unknown) {
    if (typeof kid !== 'string' || kid.length > 128) return undefined;
    const key = options.keys.verification(kid);
    if (key) return key;
    // An unknown kid may be a key another instance just rotated in; re-read, at most every 5 s.
    const now = Date.now();
    if (now - lastReload < KEY_RELOAD_INTERVAL_MS) return undefined;
    lastReload = now;
    await options.keys.reload();
    return options.keys.verification(kid);
  }

  async function verifySignature(token: string): Promise<AccessClaims> {
    const hit = verified.get(token);
    if (hit) {
      // A hit skips only the signature: the key must still be trusted and every time claim must
      // still hold at this instant, exactly as jose would judge it; otherwise the full check decides.
      if (
        options.keys.verification(hit.kid) === hit.key &&
        timesHold(hit.claims, hit.nbf, options.clock(), maxAgeSeconds)
      ) {
        return hit.claims;
      }
      verified.delete(token);
    }
    const result = await verifyInFull(token);
    verified.set(token, { ...result, claims: Object.freeze(result.claims) });
    return result.claims;
  }

  async function verifyInFull(token: string): Promise<Verified> {
    const fail = (why: string) => new AuthenticationError(why, true);
    // Exactly three canonical base64url segments: one token, one spelling (no padding, no spare bits).
    if (token.length > MAX_TOKEN_LENGTH || !isCompactJws(token)) {
      throw fail('The access token is malformed.');
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw fail('The access token is malformed.');
    }
    // Only the configured algorithm: no `none`, no HS256-with-a-public-key confusion.
    if (header.alg !== options.algorithm)
      throw fail('The access token is signed with another algorithm.');
    if (FORBIDDEN_HEADERS.some((name) => name in header))
      throw fail('The access token carries a forbidden header.');
    const kid = header.kid;
    const key = await keyFor(kid);
    if (!key || typeof kid !== 'string')
      throw fail('The access token is signed by an unknown key.');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [options.algorithm],
        typ: 'at+jwt',
        issuer: options.issuer,
        audience: options.audience,
        requiredClaims: ['iss', 'aud', 'sub', 'exp', 'iat', 'jti', 'sid', 'client_id'],
        maxTokenAge: maxAgeSeconds,
        clockTolerance: LEEWAY_SECONDS,
        currentDate: new Date(options.clock()),
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw fail('The access token has expired.');
      if (error instanceof joseErrors.JOSEError) throw fail('The access token is invalid.');
      throw error;
    }
    const claims = checkClaims(payload, options.clock(), fail);
    return { claims, nbf: typeof payload.nbf === 'number' ? payload.nbf : undefined, kid, key };
  }

  return {
    async issue(input) {
      const now = Math.floor(options.clock() / 1000);
      // Never issue below the user's "valid after" second, or a token minted in the same second as
      // a demotion would be refused (or, worse, one minted before it accepted).
      const iat = Math.max(now, options.revocations.userValidAfter(input.userId));
      const { kid, key } = options.keys.signing();
      const claims: AccessClaims = {
        iss: options.issuer,
        aud: options.audience,
        sub: input.userId,
        exp: iat + options.ttlSeconds,
        iat,
        jti: uuidv7(options.clock()),
        client_id: input.clientId,
        sid: input.sessionId,
        scope: input.scope,
        preferred_username: input.username,
      };
      const token = signJws(options.algorithm, { typ: 'at+jwt', kid }, claims, key);
      return { token, claims };
    },
    async verify(token) {
      const claims = await verifySignature(token);
      if (options.revocations.isRevoked(claims)) {
        throw new AuthenticationError('The access token has been revoked.', true);
      }
      return claims;
    },
    verifySignature,
  };
}

/** jose's time rules (nbf, exp, maxTokenAge, iat not ahead) plus checkClaims' own, at `nowMs`. */
function timesHold(
  claims: AccessClaims,
  nbf: number | undefined,
  nowMs: number,
  maxAgeSeconds: number,
): boolean {
  const now = Math.floor(nowMs / 1000);
  if (nbf !== undefined && nbf > now + LEEWAY_SECONDS) return false;
  if (claims.exp <= now - LEEWAY_SECONDS) return false;
  const age = now - claims.iat;
  if (age - LEEWAY_SECONDS > maxAgeSeconds || age < -LEEWAY_SECONDS) return false;
  return claims.iat <= nowMs / 1000 + LEEWAY_SECONDS;
}

function isCompactJws(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  return parts.every(
    (part) =>
      /^[A-Za-z0-9_-]+$/.test(part) &&
      Buffer.from(part, 'base64url').toString('base64url') === part,
  );
}

function checkClaims(
  payload: JWTPayload,
  nowMs: number,
  fail: (why: string) => AuthenticationError,
): AccessClaims {
  const { sub, jti, sid, iat, client_id: clientId, scope, preferred_username: name } = payload;
  const strings = [sub, jti, sid, clientId];
  if (strings.some((v) => typeof v !== 'string' || v.length === 0 || v.length > 256)) {
    throw fail('The access token is missing a required claim.');
  }
  if (typeof iat !== 'number' || iat > nowMs / 1000 + LEEWAY_SECONDS) {
    throw fail('The access token was issued in the future.');
  }
  if (scope !== undefined && typeof scope !== 'string')
    throw fail('The access token scope is malformed.');
  return {
    ...(payload as unknown as AccessClaims),
    scope: scope ?? '',
    preferred_username: typeof name === 'string' ? name : '',
  };
}
