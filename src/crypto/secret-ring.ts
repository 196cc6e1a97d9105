// SECRET_KEY and the secrets it replaced (PREVIOUS_SECRET_KEYS), so that SECRET_KEY can be rotated:
// what the current secret makes (signatures, sealed data, keyed hashes) is made with it alone, and
// what an older one made is still verified, opened or found until it expires or is made again.
import { deriveKey } from './random.ts';

export interface SecretRing {
  /** SECRET_KEY: the only secret that signs, seals and hashes anything new. */
  readonly current: Uint8Array;
  /** The current secret first, then the previous ones, newest first. */
  readonly all: readonly Uint8Array[];
  /** The subkey for `purpose` of the current secret. */
  key(purpose: string): Uint8Array;
  /** The subkeys for `purpose` of every secret, in the order of `all` (index 0 is the current one). */
  keys(purpose: string): readonly Uint8Array[];
}

export function createSecretRing(
  current: Uint8Array,
  previous: readonly Uint8Array[] = [],
): SecretRing {
  const all = Object.freeze([current, ...previous]);
  // HKDF once per purpose: some purposes are derived on every refresh or login.
  const derived = new Map<string, readonly Uint8Array[]>();
  function keys(purpose: string): readonly Uint8Array[] {
    let found = derived.get(purpose);
    if (found === undefined) {
      found = Object.freeze(all.map((secret) => deriveKey(secret, purpose)));
      derived.set(purpose, found);
    }
    return found;
  }
  return {
    current,
    all,
    key: (purpose) => keys(purpose)[0] as Uint8Array,
    keys,
  };
}

/**
 * The first result of `attempt` over the subkeys of `purpose` that does not throw, with the index of
 * the secret that gave it (0: the current one); undefined if every secret fails.
 */
export function withAnyKey<T>(
  ring: SecretRing,
  purpose: string,
  attempt: (key: Uint8Array) => T,
): { value: T; index: number } | undefined {
  const keys = ring.keys(purpose);
  for (let index = 0; index < keys.length; index++) {
    try {
      return { value: attempt(keys[index] as Uint8Array), index };
    } catch {
      // Made with another secret (or damaged): try the next one.
    }
  }
  return undefined;
}
