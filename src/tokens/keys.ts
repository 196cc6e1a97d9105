// Signing keys, one current key per algorithm: the access-token key of ALGORITHM (made on first
// start) and the RS256/ES256 ID-token keys (made on first use). Kept in the store (private halves
// sealed with a key derived from SECRET_KEY), published as JWKS, rotated by `portcullis keys rotate`.
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose';
import type { Algorithm } from '../config/settings.ts';
import { deriveKey, openText, sealText } from '../crypto/random.ts';
import type { SigningKey, Store } from '../store/index.ts';
import { hmacKeyId } from './hmac-kid.ts';

export type VerifyKey = CryptoKey | Uint8Array;

/** The algorithms an ID token may be signed with (SPEC §8: RS256 by default, or ES256). */
export type IdTokenAlgorithm = 'RS256' | 'ES256';

export const ID_TOKEN_ALGORITHMS: readonly IdTokenAlgorithm[] = ['RS256', 'ES256'];

type AsymmetricAlgorithm = Exclude<Algorithm, 'HS256'>;

export interface PublicJwk extends JWK {
  kid: string;
  alg: string;
  use: 'sig';
}

export interface KeyRingOptions {
  store: Store;
  algorithm: Algorithm;
  secretKey: Uint8Array;
  /** PREVIOUS_SECRET_KEYS: with HS256 they verify tokens they signed; otherwise they open stored keys. */
  previousSecretKeys?: readonly Uint8Array[];
  accessTokenTtlSeconds: number;
  clock: () => number;
  /** Told once per key when an ID-token key no configured secret opens is skipped. */
  onUnreadableKey?: (message: string) => void;
}

export interface KeyRing {
  /** The key new access tokens are signed with. */
  signing(): { kid: string; key: VerifyKey };
  /** A key that may verify an access token: the configured algorithm only, current or not yet expired. */
  verification(kid: string): VerifyKey | undefined;
  /** The current ID-token key of `alg`, made (once, across instances) on first use. */
  idTokenSigning(alg: IdTokenAlgorithm): Promise<{ kid: string; key: VerifyKey }>;
  /** A loaded RS256/ES256 key (current or retired but kept), to check an ID token (id_token_hint). */
  idTokenVerification(kid: string): { alg: IdTokenAlgorithm; key: VerifyKey } | undefined;
  /** The public halves of the access-token keys and of every loaded ID-token key. */
  jwks(): { keys: PublicJwk[] };
  /** Re-read the store (another instance or the CLI may have rotated). */
  reload(): Promise<void>;
}

interface LoadedKey {
  kid: string;
  alg: AsymmetricAlgorithm;
  createdAt: number;
  retiredAt: number | null;
  publicJwk: PublicJwk;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}

// Tokens signed just before a rotation live for one access-token lifetime; keep the key that long.
const RETIREMENT_MARGIN_MS = 60_000;

// Losing the race for an ID-token key more than this often means something else is wrong.
const ID_KEY_ATTEMPTS = 3;

export function isIdTokenAlgorithm(alg: string): alg is IdTokenAlgorithm {
  return (ID_TOKEN_ALGORITHMS as readonly string[]).includes(alg);
}

function sealKeysOf(options: KeyRingOptions): Uint8Array[] {
  // Keys sealed before a SECRET_KEY rotation still open; new ones are sealed with the current secret.
  return [options.secretKey, ...(options.previousSecretKeys ?? [])].map((secret) =>
    deriveKey(secret, 'signing-keys'),
  );
}

export async function openKeyRing(options: KeyRingOptions): Promise<KeyRing> {
  const configured = options.algorithm;
  const openKeys = sealKeysOf(options);
  const sealKey = openKeys[0] as Uint8Array;
  // Only these are ever loaded: a key of another algorithm (left by an earlier ALGORITHM) signs
  // nothing and verifies nothing, so it is neither published nor opened.
  const wanted = (alg: string): alg is AsymmetricAlgorithm =>
    alg === configured || isIdTokenAlgorithm(alg);
  let keys: LoadedKey[] = [];
  // Kept rows of an ID-token algorithm that no configured secret opens (as of the last reload).
  let unreadable: SigningKey[] = [];
  const warned = new Set<string>();
  const pending = new Map<IdTokenAlgorithm, Promise<{ kid: string; key: VerifyKey }>>();

  // Reloads may overlap (the timer, an unknown kid, a first ID token); a slower one that read the
  // table earlier must not overwrite what a later one found.
  let started = 0;
  let applied = 0;

  async function reload(): Promise<void> {
    const mine = ++started;
    const now = options.clock();
    const keepUntil = (k: SigningKey) =>
      k.retiredAt === null ||
      k.retiredAt + options.accessTokenTtlSeconds * 1000 + RETIREMENT_MARGIN_MS > now;
    const rows = (await options.store.signingKeys.list()).filter((k) => wanted(k.alg));
    if (configured !== 'HS256' && !rows.some((k) => k.alg === configured && k.retiredAt === null)) {
      // One current key per algorithm (a partial unique index): of instances starting together on
      // an empty table one key wins and all of them sign with it, so none refuses another's tokens.
      await options.store.signingKeys.insertCurrent(
        await generateSigningKey(configured, sealKey, now),
      );
      return reload();
    }
    const known = new Map(keys.map((k) => [k.kid, k]));
    const loaded: LoadedKey[] = [];
    const skipped: SigningKey[] = [];
    for (const row of rows.filter(keepUntil)) {
      const had = known.get(row.kid);
      if (had) {
        // The same CryptoKeys as before: a key stays the same key (the verified-token cache and
        // the signer's KeyObject cache compare by identity), only its retirement can change.
        loaded.push(had.retiredAt === row.retiredAt ? had : { ...had, retiredAt: row.retiredAt });
        continue;
      }
      const privateText = openPrivate(row, openKeys);
      if (privateText === undefined) {
        // The access-token key must open: without it the server cannot sign (a clear start-up error).
        if (row.alg === configured) throw new Error(unreadableMessage(row.kid));
        // An ID-token key that does not open must not keep the server from starting:
        // idTokenSigning retires it and makes a fresh one.
        skipped.push(row);
        if (!warned.has(row.kid)) {
          warned.add(row.kid);
          options.onUnreadableKey?.(
            `${unreadableMessage(row.kid)}; ID-token key skipped, a new ${row.alg} key replaces it on first use`,
          );
        }
        continue;
      }
      loaded.push(await loadKey(row, privateText));
    }
    if (mine < applied) return;
    applied = mine;
    keys = loaded;
    unreadable = skipped;
  }

  function currentOf(alg: AsymmetricAlgorithm): LoadedKey | undefined {
    // One current key per algorithm (the index); the newest if an older database still has two.
    return keys
      .filter((k) => k.alg === alg && k.retiredAt === null)
      .reduce<LoadedKey | undefined>(
        (a, b) => (a && a.createdAt >= b.createdAt ? a : b),
        undefined,
      );
  }

  async function makeIdKey(alg: IdTokenAlgorithm): Promise<{ kid: string; key: VerifyKey }> {
    for (let attempt = 0; ; attempt++) {
      // Re-read first: another instance may have made the key since our last reload.
      await reload();
      const current = currentOf(alg);
      if (current) return { kid: current.kid, key: current.privateKey };
      if (attempt === ID_KEY_ATTEMPTS)
        throw new Error(`could not create a current ${alg} ID-token signing key`);
      const now = options.clock();
      // A current key no configured secret opens is retired, so the index admits one this server
      // can sign with (it could never sign with the old one again).
      for (const row of unreadable) {
        if (row.alg === alg && row.retiredAt === null)
          await options.store.signingKeys.retire(row.kid, now);
      }
      // Race-safe: of instances making the first key of `alg` at once, one insert wins and every
      // instance signs with the winner after the reload above.
      await options.store.signingKeys.insertCurrent(await generateSigningKey(alg, sealKey, now));
    }
  }

  await reload();
  const hmac = configured === 'HS256' ? hmacVerification(options) : undefined;
  return {
    signing() {
      if (hmac) return hmac.signing;
      const current = currentOf(configured as AsymmetricAlgorithm);
      // reload() never leaves the configured algorithm without a current key.
      if (!current) throw new Error(`no current ${configured} signing key`);
      return { kid: current.kid, key: current.privateKey };
    },
    verification(kid) {
      if (hmac) return hmac.verifying.get(kid);
      // The configured algorithm only: an ID-token key of another algorithm must never verify an
      // access token (algorithm confusion).
      return keys.find((k) => k.kid === kid && k.alg === configured)?.publicKey;
    },
    async idTokenSigning(alg) {
      if (!isIdTokenAlgorithm(alg)) throw new Error(`not an ID-token algorithm: ${String(alg)}`);
      const current = currentOf(alg);
      if (current) return { kid: current.kid, key: current.privateKey };
      // Concurrent first uses in this process share one key generation (RSA takes a while).
      let making = pending.get(alg);
      if (!making) {
        making = makeIdKey(alg).finally(() => pending.delete(alg));
        pending.set(alg, making);
      }
      return making;
    },
    idTokenVerification(kid) {
      const found = keys.find((k) => k.kid === kid);
      if (!found || !isIdTokenAlgorithm(found.alg)) return undefined;
      return { alg: found.alg, key: found.publicKey };
    },
    jwks() {
      // Only asymmetric keys are ever loaded, so a symmetric key is never published; a kid is
      // listed once even when it signs both access and ID tokens.
      return { keys: keys.map((k) => k.publicJwk) };
    },
    reload,
  };
}

function hmacVerification(options: KeyRingOptions): {
  signing: { kid: string; key: Uint8Array };
  verifying: Map<string, Uint8Array>;
} {
  const secret = options.secretKey;
  const kid = hmacKeyId(secret);
  // Previous secrets verify the tokens they signed until those expire; only the current one signs.
  const verifying = new Map<string, Uint8Array>(
    (options.previousSecretKeys ?? []).map((old) => [hmacKeyId(old), old]),
  );
  verifying.set(kid, secret);
  return { signing: { kid, key: secret }, verifying };
}

export async function generateSigningKey(
  alg: AsymmetricAlgorithm,
  sealKey: Uint8Array,
  now: number,
): Promise<SigningKey> {
  const pair = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  const privateJwk = await exportJWK(pair.privateKey);
  const publicJwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    alg,
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
    privateJwk: sealText(sealKey, JSON.stringify(privateJwk)),
    createdAt: now,
    retiredAt: null,
  };
}

function unreadableMessage(kid: string): string {
  return `signing key ${kid} cannot be decrypted with SECRET_KEY or PREVIOUS_SECRET_KEYS (was SECRET_KEY changed? put the old one in PREVIOUS_SECRET_KEYS)`;
}

function openPrivate(row: SigningKey, sealKeys: readonly Uint8Array[]): string | undefined {
  for (const sealKey of sealKeys) {
    try {
      return openText(sealKey, row.privateJwk);
    } catch {
      // Sealed with another secret: try the next one.
    }
  }
  return undefined;
}

async function loadKey(row: SigningKey, privateText: string): Promise<LoadedKey> {
  const publicJwk = JSON.parse(row.publicJwk) as PublicJwk;
  return {
    kid: row.kid,
    alg: row.alg as AsymmetricAlgorithm,
    createdAt: row.createdAt,
    retiredAt: row.retiredAt,
    publicJwk,
    publicKey: (await importJWK(publicJwk, row.alg)) as CryptoKey,
    // Extractable only so node:crypto can sign with it (jws-sign.ts); it never leaves the process.
    privateKey: (await importJWK(JSON.parse(privateText) as JWK, row.alg, {
      extractable: true,
    })) as CryptoKey,
  };
}

/**
 * `keys rotate`: a new current key for the configured algorithm and for every ID-token algorithm
 * that has one; the keys they replace are retired but verify until their tokens expire.
 */
export async function rotateSigningKey(options: KeyRingOptions): Promise<SigningKey[]> {
  const rows = await options.store.signingKeys.list();
  const algs: AsymmetricAlgorithm[] = [];
  if (options.algorithm !== 'HS256') algs.push(options.algorithm);
  for (const alg of ID_TOKEN_ALGORITHMS) {
    if (!algs.includes(alg) && rows.some((k) => k.alg === alg && k.retiredAt === null))
      algs.push(alg);
  }
  if (algs.length === 0) {
    throw new Error('ALGORITHM=HS256 signs with SECRET_KEY: rotate by changing SECRET_KEY');
  }
  const sealKey = sealKeysOf(options)[0] as Uint8Array;
  const now = options.clock();
  const fresh: SigningKey[] = [];
  for (const alg of algs) fresh.push(await generateSigningKey(alg, sealKey, now));
  await options.store.transaction(async (tx) => {
    for (const key of await tx.signingKeys.list()) {
      if (key.retiredAt === null && algs.includes(key.alg as AsymmetricAlgorithm))
        await tx.signingKeys.retire(key.kid, now);
    }
    for (const key of fresh) await tx.signingKeys.insert(key);
  });
  return fresh;
}
