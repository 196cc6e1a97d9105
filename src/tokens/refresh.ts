// Opaque refresh tokens: 256 random bits, stored only as a keyed hash (HMAC with a pepper), so a
// copy of the database yields no usable token.
import { createSecretKey, type KeyObject } from 'node:crypto';
import { hmacSha256, randomToken } from '../crypto/random.ts';
import type { SecretRing } from '../crypto/secret-ring.ts';

export interface RefreshTokenCodec {
  /** A fresh token for a new session: 32 random bytes. */
  create(): string;
  /** The successor a token rotates to. Derived, so that two concurrent refreshes of one token
   *  inside the grace window receive the same successor without storing it in the clear. */
  successor(token: string): string;
  /** The keyed hash under which a token is stored (and first looked up). */
  hash(token: string): string;
  /** Every hash a token may be stored under: `hash` first, then those of PREVIOUS_SECRET_KEYS. */
  hashes(token: string): string[];
  /** A cheap shape check before any lookup. */
  looksValid(token: string): boolean;
}

export function createRefreshTokenCodec(
  secrets: SecretRing,
  pepper?: Uint8Array,
): RefreshTokenCodec {
  // Key objects made once: every refresh computes three HMACs (see hmacSha256). A pepper does not
  // change with SECRET_KEY, so it is the only hash key; else each secret of the ring hashed some rows.
  const hashKeys: KeyObject[] = pepper
    ? [createSecretKey(pepper)]
    : secrets.keys('refresh-token-hash').map((key) => createSecretKey(key));
  const hashKey = hashKeys[0] as KeyObject;
  const rotationKey = createSecretKey(secrets.key('refresh-token-rotation'));
  return {
    create: () => randomToken(32),
    successor: (token) => hmacSha256(rotationKey, `rotate:${token}`),
    hash: (token) => hmacSha256(hashKey, token),
    hashes: (token) => hashKeys.map((key) => hmacSha256(key, token)),
    looksValid: (token) => /^[A-Za-z0-9_-]{43}$/.test(token),
  };
}
