// The rules an access token must pass (RFC 9068, hardened as RFC 8725 says), as pure functions: ONE
// set, used by the server's verification (tokens/access-token.ts) and by the guard other services
// run (guard/verifier.ts), so the two can never judge a token differently. No I/O and no imports but
// types: the guard ships this file and must not pull in the server, the store or the kv.
// Each check answers the reason for refusing (a sentence for the client), or undefined when it holds.
import type { JWTVerifyOptions } from 'jose';

/** The claims of a Portcullis access token (RFC 9068 §2.2, plus the session and username). */
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

/** Clock leeway for exp, nbf and iat (the contract allows at most 5 seconds). */
export const LEEWAY_SECONDS = 5;
// Far above any token we issue (well under 1 KB); anything longer is refused before parsing.
export const MAX_TOKEN_LENGTH = 4096;
const MAX_KID_LENGTH = 128;
const MAX_ID_LENGTH = 256;

/** RFC 9068 §2.1: the media type of an access token (`typ`). */
export const ACCESS_TOKEN_TYP = 'at+jwt';
// RFC 8725 §3.1: no header that carries, names or points at a key is ever honoured (a
// verifier that followed one would trust the attacker's key); and no b64 (RFC 7797), which we never
// issue and whose `false` would make the payload something other than the signed JSON.
export const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'b64'] as const;
/** Claims every access token carries (RFC 9068 §2.2, plus the session and the client). */
export const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'exp', 'iat', 'jti', 'sid', 'client_id'];
// The string claims that name something; empty or huge ones are refused rather than looked up.
const ID_CLAIMS = ['sub', 'jti', 'sid', 'client_id'] as const;
// RFC 6749 §3.3: scope-tokens of %x21 / %x23-5B / %x5D-7E, separated by single spaces.
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*$/;

export interface ClaimRules {
  issuer: string;
  audience: string;
  /** The verifier's clock, in milliseconds. */
  nowMs: number;
  /** Refuse tokens older than this (iat); the server passes its TTL plus the leeway. */
  maxTokenAgeSeconds?: number;
}

export interface TokenTimes {
  iat: number;
  exp: number;
  nbf?: number | undefined;
}

/** Exactly three canonical base64url segments: one token, one spelling (no padding, no spare bits). */
export function compactRefusal(token: unknown): string | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) {
    return 'The access token is malformed.';
  }
  const parts = token.split('.');
  const canonical =
    parts.length === 3 &&
    parts.every(
      (part) =>
        /^[A-Za-z0-9_-]+$/.test(part) &&
        Buffer.from(part, 'base64url').toString('base64url') === part,
    );
  return canonical ? undefined : 'The access token is malformed.';
}

/** The protected header: pinned alg, typ at+jwt, a kid, and nothing that names a key or an extension. */
export function headerRefusal(header: unknown, algorithms: readonly string[]): string | undefined {
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    return 'The access token is malformed.';
  }
  const h = header as Record<string, unknown>;
  // Only the pinned algorithms, and never `none` in any spelling: no unsigned tokens, no
  // HS256-keyed-with-the-public-key confusion.
  if (typeof h.alg !== 'string' || h.alg.toLowerCase() === 'none' || !algorithms.includes(h.alg)) {
    return 'The access token is signed with another algorithm.';
  }
  if (!isAccessTokenTyp(h.typ)) return 'The access token is not an access token (typ).';
  if (FORBIDDEN_HEADERS.some((name) => name in h)) {
    return 'The access token carries a forbidden header.';
  }
  // We issue no extension: a crit we would have to understand can only come from someone else.
  if ('crit' in h) return 'The access token carries a forbidden header.';
  // The key is chosen by kid alone, never guessed: a token without one names no key of ours.
  if (typeof h.kid !== 'string' || h.kid.length === 0 || h.kid.length > MAX_KID_LENGTH) {
    return 'The access token is signed by an unknown key.';
  }
  return undefined;
}

// RFC 9068 §4 and RFC 8725 §3.11: `at+jwt` or `application/at+jwt`, compared as media types
// (case-insensitive), as jose compares them.
function isAccessTokenTyp(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const lower = typ.toLowerCase();
  return lower === ACCESS_TOKEN_TYP || lower === `application/${ACCESS_TOKEN_TYP}`;
}

/** The options jose's jwtVerify gets from both verifiers (its defaults check less than they seem). */
export function joseOptions(algorithms: readonly string[], rules: ClaimRules): JWTVerifyOptions {
  return {
    algorithms: [...algorithms],
    typ: ACCESS_TOKEN_TYP,
    issuer: rules.issuer,
    audience: rules.audience,
    requiredClaims: REQUIRED_CLAIMS,
    ...(rules.maxTokenAgeSeconds === undefined ? {} : { maxTokenAge: rules.maxTokenAgeSeconds }),
    clockTolerance: LEEWAY_SECONDS,
    currentDate: new Date(rules.nowMs),
  };
}

/** The time rules (jose's nbf, exp, maxTokenAge and iat-not-ahead, plus our own fractional iat check). */
export function timesRefusal(
  times: TokenTimes,
  nowMs: number,
  maxTokenAgeSeconds?: number,
): string | undefined {
  const now = Math.floor(nowMs / 1000);
  if (times.exp <= now - LEEWAY_SECONDS) return 'The access token has expired.';
  // Even inside the leeway: a token from the future was minted by a clock (or a hand) we do not trust.
  if (times.iat > nowMs / 1000 + LEEWAY_SECONDS)
    return 'The access token was issued in the future.';
  if (times.nbf !== undefined && times.nbf > now + LEEWAY_SECONDS) {
    return 'The access token is not valid yet.';
  }
  const age = now - times.iat;
  if (age < -LEEWAY_SECONDS) return 'The access token was issued in the future.';
  if (maxTokenAgeSeconds !== undefined && age - LEEWAY_SECONDS > maxTokenAgeSeconds) {
    return 'The access token is too old.';
  }
  return undefined;
}

/** The claims (RFC 9068 §2.2): who issued it for whom, when, for which session and client. */
export function claimsRefusal(payload: unknown, rules: ClaimRules): string | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return 'The access token is malformed.';
  }
  const p = payload as Record<string, unknown>;
  if (REQUIRED_CLAIMS.some((claim) => p[claim] === undefined)) {
    return 'The access token is missing a required claim.';
  }
  // Character for character: a trailing slash or another scheme is another issuer.
  if (p.iss !== rules.issuer) return 'The access token is invalid.';
  const aud = p.aud;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(rules.audience)) return 'The access token is invalid.';
  if (
    ID_CLAIMS.some((c) => {
      const value = p[c];
      return typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH;
    })
  ) {
    return 'The access token is missing a required claim.';
  }
  const { iat, exp, nbf } = p;
  if (typeof iat !== 'number' || typeof exp !== 'number') return 'The access token is invalid.';
  if (nbf !== undefined && typeof nbf !== 'number') return 'The access token is invalid.';
  const times = timesRefusal({ iat, exp, nbf }, rules.nowMs, rules.maxTokenAgeSeconds);
  if (times) return times;
  const { scope } = p;
  // Absent or empty is no scope; anything else is space-delimited scope-tokens.
  if (scope !== undefined && (typeof scope !== 'string' || (scope !== '' && !SCOPE.test(scope)))) {
    return 'The access token scope is malformed.';
  }
  if (p.preferred_username !== undefined && typeof p.preferred_username !== 'string') {
    return 'The access token is invalid.';
  }
  return undefined;
}
