// RFC 9068 access tokens: issue and verify. No HTTP, no environment: everything is passed in.
import { decodeProtectedHeader, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import type { Algorithm } from '../config/settings.ts';
import { uuidv7 } from '../crypto/random.ts';
import { AuthenticationError } from '../errors/index.ts';
import { signJws } from './jws-sign.ts';
import type { KeyRing, VerifyKey } from './keys.ts';
import type { LiveSessions } from './live-sessions.ts';
import type { RevocationList } from './revocation.ts';
import {
  type AccessClaims,
  claimsRefusal,
  compactRefusal,
  headerRefusal,
  joseOptions,
  LEEWAY_SECONDS,
  timesRefusal,
} from './rules.ts';
import { createVerifiedTokenCache } from './verified-cache.ts';

export type { AccessClaims } from './rules.ts';

export interface AccessTokenOptions {
  algorithm: Algorithm;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  keys: KeyRing;
  revocations: RevocationList;
  /** Sessions that exist and are live: a token of any other `sid` is refused. */
  liveSessions: LiveSessions;
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

  async function verifySignature(token: string, now = options.clock()): Promise<AccessClaims> {
    const hit = verified.get(token);
    if (hit) {
      // A hit skips only the signature: the key must still be trusted and every time claim must
      // still hold at this instant, exactly as jose would judge it; otherwise the full check decides.
      if (
        options.keys.verification(hit.kid) === hit.key &&
        timesRefusal(
          { iat: hit.claims.iat, exp: hit.claims.exp, nbf: hit.nbf },
          now,
          maxAgeSeconds,
        ) === undefined
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
    // The rules are shared with the guard (rules.ts): the same token gets the same verdict there.
    const malformed = compactRefusal(token);
    if (malformed) throw fail(malformed);
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw fail('The access token is malformed.');
    }
    // Only the configured algorithm, typ at+jwt, a kid, no key-naming header, no crit.
    const refused = headerRefusal(header, [options.algorithm]);
    if (refused) throw fail(refused);
    const kid = header.kid;
    const key = await keyFor(kid);
    if (!key || typeof kid !== 'string')
      throw fail('The access token is signed by an unknown key.');
    const rules = {
      issuer: options.issuer,
      audience: options.audience,
      nowMs: options.clock(),
      maxTokenAgeSeconds: maxAgeSeconds,
    };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, joseOptions([options.algorithm], rules)));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw fail('The access token has expired.');
      if (error instanceof joseErrors.JOSEError) throw fail('The access token is invalid.');
      throw error;
    }
    const claimsRefused = claimsRefusal(payload, { ...rules, nowMs: options.clock() });
    if (claimsRefused) throw fail(claimsRefused);
    const claims = accessClaims(payload);
    return { claims, nbf: typeof payload.nbf === 'number' ? payload.nbf : undefined, kid, key };
  }

  /** The slow side of the session check: a lookup to wait for, or a refusal. */
  async function liveOrRefused(
    token: string,
    claims: AccessClaims,
    live: false | Promise<boolean>,
  ): Promise<AccessClaims> {
    if (live !== false && (await live)) return claims;
    // Not kept as verified either: forged tokens must not push real ones out of that cache.
    verified.delete(token);
    throw new AuthenticationError('The access token is not of a live session.', true);
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
        // A machine client (client_credentials) has no user name to give.
        ...(input.username === '' ? {} : { preferred_username: input.username }),
      } as AccessClaims;
      const token = signJws(options.algorithm, { typ: 'at+jwt', kid }, claims, key);
      // Issued here for a session just read or made: its first request needs no lookup.
      options.liveSessions.remember(input.sessionId, input.userId);
      return { token, claims };
    },
    async verify(token) {
      // One reading of the clock for the whole hot path (it costs as much as the session check).
      const now = options.clock();
      const claims = await verifySignature(token, now);
      if (options.revocations.isRevoked(claims)) {
        throw new AuthenticationError('The access token has been revoked.', true);
      }
      // A good signature is not enough: anyone holding an HS256 secret can sign, so the session
      // must be one this server made and still live (in memory on a hit, one read on a miss).
      const live = options.liveSessions.isLive(claims.sid, claims.sub, now);
      return live === true ? claims : liveOrRefused(token, claims, live);
    },
    verifySignature,
  };
}

/** The verified payload as AccessClaims (claimsRefusal has checked every member's type). */
function accessClaims(payload: JWTPayload): AccessClaims {
  const { scope, preferred_username: name } = payload;
  return {
    ...(payload as unknown as AccessClaims),
    scope: typeof scope === 'string' ? scope : '',
    preferred_username: typeof name === 'string' ? name : '',
  };
}
