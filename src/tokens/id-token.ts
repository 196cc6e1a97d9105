// OpenID Connect ID tokens (SPEC §8): signing with the RS256/ES256 ID-token keys of the key ring,
// the at_hash claim, and checking an id_token_hint (RP-Initiated Logout 1.0). No HTTP here.
import { createHash } from 'node:crypto';
import { decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import { signJws } from './jws-sign.ts';
import type { IdTokenAlgorithm, KeyRing } from './keys.ts';

// Same leeway as access tokens (SPEC §3: at most 5 seconds).
const LEEWAY_SECONDS = 5;

// An ID token is a few hundred bytes; anything far larger is not one of ours.
const MAX_HINT_LENGTH = 16_384;

// As for access tokens (access-token.ts): an unknown kid re-reads the keys at most this often.
const RELOAD_INTERVAL_MS = 5_000;

/** A compact JWS with header {alg, typ: "JWT", kid}, signed with the current ID-token key of `alg`. */
export async function signIdToken(
  keys: KeyRing,
  alg: IdTokenAlgorithm,
  claims: Record<string, unknown>,
): Promise<string> {
  const { kid, key } = await keys.idTokenSigning(alg);
  return signJws(alg, { typ: 'JWT', kid }, claims, key);
}

/**
 * OIDC Core §3.1.3.6 at_hash: base64url of the left half of the hash of the ASCII access token;
 * the hash is the one of the ID token's alg, SHA-256 for both RS256 and ES256.
 */
export function atHash(accessToken: string, _alg: IdTokenAlgorithm): string {
  return createHash('sha256')
    .update(accessToken, 'ascii')
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

/**
 * An id_token_hint this server issued: signature by one of its ID-token keys, typ JWT, our issuer,
 * a subject and one audience. Expiry is not required (RP-Initiated Logout accepts an expired hint),
 * but an iat in the future is refused. Anything wrong gives undefined, never an exception.
 * `now` is the caller's clock in milliseconds (the services' injected clock).
 */
export async function verifyIdTokenHint(
  keys: KeyRing,
  token: string,
  issuer: string,
  now: number = Date.now(),
): Promise<{ sub: string; aud: string; sid?: string } | undefined> {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_HINT_LENGTH)
    return undefined;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      token,
      async (header) => {
        // Only our own ID-token keys, chosen by kid, and only for the alg that key was made for:
        // no embedded or fetched keys, no algorithm confusion with the access-token key.
        const found = typeof header.kid === 'string' ? await keyFor(keys, header.kid) : undefined;
        if (!found || found.alg !== header.alg) throw new errors.JWKSNoMatchingKey();
        return found.key;
      },
      {
        algorithms: ['RS256', 'ES256'],
        typ: 'JWT',
        issuer,
        requiredClaims: ['sub', 'aud', 'iat'],
        currentDate: new Date(now),
        clockTolerance: LEEWAY_SECONDS,
      },
    ));
  } catch (error) {
    // An expired hint is still a valid hint: jose throws JWTExpired only after the signature
    // verified; every claim is checked again below, whatever jose had checked before exp.
    if (!(error instanceof errors.JWTExpired)) return undefined;
    payload = error.payload;
  }
  return hintClaims(token, payload, issuer, now);
}

const lastReload = new WeakMap<KeyRing, number>();

async function keyFor(
  keys: KeyRing,
  kid: string,
): Promise<ReturnType<KeyRing['idTokenVerification']>> {
  if (kid.length > 128) return undefined;
  const found = keys.idTokenVerification(kid);
  if (found) return found;
  // An unknown kid may be a key another instance made moments ago; re-read the store, but at most
  // every 5 s, so hints with made-up kids cannot make every request a database read.
  const now = Date.now();
  if (now - (lastReload.get(keys) ?? 0) < RELOAD_INTERVAL_MS) return undefined;
  lastReload.set(keys, now);
  await keys.reload();
  return keys.idTokenVerification(kid);
}

function hintClaims(
  token: string,
  payload: JWTPayload,
  issuer: string,
  now: number,
): { sub: string; aud: string; sid?: string } | undefined {
  let typ: unknown;
  try {
    typ = decodeProtectedHeader(token).typ;
  } catch {
    return undefined;
  }
  if (typeof typ !== 'string' || typ.toLowerCase() !== 'jwt') return undefined;
  if (payload.iss !== issuer) return undefined;
  const { sub, aud, iat, sid } = payload;
  if (typeof sub !== 'string' || sub === '') return undefined;
  // A token from the future was not issued by this server's clock (5 s leeway, as for access tokens).
  if (typeof iat !== 'number' || !Number.isFinite(iat) || iat > now / 1000 + LEEWAY_SECONDS)
    return undefined;
  // An ID token has one audience, the client; a list is accepted only with exactly one.
  const audience = Array.isArray(aud) ? (aud.length === 1 ? aud[0] : undefined) : aud;
  if (typeof audience !== 'string' || audience === '') return undefined;
  if (sid !== undefined && typeof sid !== 'string') return undefined;
  return typeof sid === 'string' ? { sub, aud: audience, sid } : { sub, aud: audience };
}
