// Opaque refresh tokens: 256 random bits, stored only as a keyed hash (HMAC with a pepper), so a
// copy of the database yields no usable token.
import { createSecretKey } from 'node:crypto';
import { deriveKey, hmacSha256, randomToken } from '../crypto/random.ts';

export interface RefreshTokenCodec {
  /** A fresh token for a new session: 32 random bytes. */
  create(): string;
  /** The successor a token rotates to. Derived, so that two concurrent refreshes of one token
   *  inside the grace window receive the same successor without storing it in the clear. */
  successor(token: string): string;
  /** The keyed hash under which a token is stored and looked up. */
  hash(token: string): string;
  /** A cheap shape check before any lookup. */
  looksValid(token: string): boolean;
}

export function createRefreshTokenCodec(
  secretKey: Uint8Array,
  pepper?: Uint8Array,
): RefreshTokenCodec {
  // Key objects made once: every refresh computes three HMACs (see hmacSha256).
  const hashKey = createSecretKey(pepper ?? deriveKey(secretKey, 'refresh-token-hash'));
  const rotationKey = createSecretKey(deriveKey(secretKey, 'refresh-token-rotation'));
  return {
    create: () => randomToken(32),
    successor: (token) => hmacSha256(rotationKey, `rotate:${token}`),
    hash: (token) => hmacSha256(hashKey, token),
    looksValid: (token) => /^[A-Za-z0-9_-]{43}$/.test(token),
  };
}
