// A bounded memo of access tokens whose signature and claims have already verified, so the hot path
// (every protected request) pays for one ECDSA/RSA/EdDSA verification per token, not per request.
//
// What it may and may not do, and why:
// - Keyed on the exact token string (a Map's string equality): a hit means these very bytes were
//   verified before, so no other spelling, signature or claim set can ever ride on an entry.
// - It remembers only successes: a refused token is verified afresh every time, so refusals can
//   never be pinned, and an attacker cannot fill it without holding valid tokens.
// - It never answers revocation: the deny-list is checked on every request, hit or miss.
// - The caller re-checks the time claims and the key on every hit (see access-token.ts), so an
//   entry can never outlive its `exp`, its key, or a clock that moved.
// - Bounded: the oldest entry goes when it is full, so memory stays flat (about 1.5 KB an entry).

import type { VerifyKey } from './keys.ts';
import type { AccessClaims } from './rules.ts';

export interface VerifiedEntry {
  /** Frozen: one object serves every request that presents the token. */
  claims: Readonly<AccessClaims>;
  /** The token's `nbf`, when it has one (jose checks it; so does a hit). */
  nbf: number | undefined;
  kid: string;
  /** The key object that verified it: a hit needs the key ring to still hand out this very key. */
  key: VerifyKey;
}

export interface VerifiedTokenCache {
  get(token: string): VerifiedEntry | undefined;
  set(token: string, entry: VerifiedEntry): void;
  delete(token: string): void;
  readonly size: number;
}

/** A cache of at most `maxEntries` verified tokens; 0 makes every call a miss (nothing is kept). */
export function createVerifiedTokenCache(maxEntries: number): VerifiedTokenCache {
  if (!Number.isInteger(maxEntries) || maxEntries < 0) {
    throw new RangeError('createVerifiedTokenCache: maxEntries must be a whole number ≥ 0');
  }
  const entries = new Map<string, VerifiedEntry>();
  return {
    get(token) {
      return entries.get(token);
    },
    set(token, entry) {
      if (maxEntries === 0) return;
      if (!entries.has(token) && entries.size >= maxEntries) {
        // Insertion order: the first key is the oldest entry.
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(token, entry);
    },
    delete(token) {
      entries.delete(token);
    },
    get size() {
      return entries.size;
    },
  };
}
