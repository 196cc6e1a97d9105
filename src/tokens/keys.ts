// Signing keys: generated on first start, kept in the store (private halves sealed with a key derived
// from SECRET_KEY), published as JWKS, rotated by `portcullis keys rotate`.
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
}

export interface KeyRing {
  /** The key new tokens are signed with. */
  signing(): { kid: string; key: VerifyKey };
  /** A key that may verify a token: the configured algorithm only, current or not yet expired. */
  verification(kid: string): VerifyKey | undefined;
  jwks(): { keys: PublicJwk[] };
  /** Re-read the store (another instance or the CLI may have rotated). */
  reload(): Promise<void>;
}

interface LoadedKey {
  kid: string;
  createdAt: number;
  retiredAt: number | null;
  publicJwk: PublicJwk;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}

// Tokens signed just before a rotation live for one access-token lifetime; keep the key that long.
const RETIREMENT_MARGIN_MS = 60_000;

export async function openKeyRing(options: KeyRingOptions): Promise<KeyRing> {
  const previous = options.previousSecretKeys ?? [];
  if (options.algorithm === 'HS256') return hmacKeyRing(options.secretKey, previous);
  const algorithm: Exclude<Algorithm, 'HS256'> = options.algorithm;
  const sealKey = deriveKey(options.secretKey, 'signing-keys');
  // Keys sealed before a SECRET_KEY rotation still open; new ones are sealed with the current secret.
  const openKeys = [sealKey, ...previous.map((secret) => deriveKey(secret, 'signing-keys'))];
  let keys: LoadedKey[] = [];

  async function reload(): Promise<void> {
    const now = options.clock();
    const keepUntil = (k: SigningKey) =>
      k.retiredAt === null ||
      k.retiredAt + options.accessTokenTtlSeconds * 1000 + RETIREMENT_MARGIN_MS > now;
    const rows = (await options.store.signingKeys.list()).filter((k) => k.alg === algorithm);
    if (!rows.some((k) => k.retiredAt === null)) {
      // One current key per algorithm (a partial unique index): of instances starting together on
      // an empty table one key wins and all of them sign with it, so none refuses another's tokens.
      await options.store.signingKeys.insertCurrent(
        await generateSigningKey(algorithm, sealKey, now),
      );
      return reload();
    }
    keys = await Promise.all(rows.filter(keepUntil).map((row) => loadKey(row, openKeys)));
  }

  await reload();
  return {
    signing() {
      // Newest active key signs; two instances racing on first start both stay verifiable.
      const active = keys.filter((k) => k.retiredAt === null);
      const newest = active.reduce((a, b) => (b.createdAt > a.createdAt ? b : a));
      return { kid: newest.kid, key: newest.privateKey };
    },
    verification(kid) {
      return keys.find((k) => k.kid === kid)?.publicKey;
    },
    jwks() {
      return { keys: keys.map((k) => k.publicJwk) };
    },
    reload,
  };
}

function hmacKeyRing(secret: Uint8Array, previous: readonly Uint8Array[]): KeyRing {
  const kid = hmacKeyId(secret);
  // Previous secrets verify the tokens they signed until those expire; only the current one signs.
  const verifying = new Map<string, Uint8Array>(previous.map((old) => [hmacKeyId(old), old]));
  verifying.set(kid, secret);
  return {
    signing: () => ({ kid, key: secret }),
    verification: (k) => verifying.get(k),
    // A symmetric key is never published.
    jwks: () => ({ keys: [] }),
    reload: async () => {},
  };
}

export async function generateSigningKey(
  alg: Exclude<Algorithm, 'HS256'>,
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

async function loadKey(row: SigningKey, sealKeys: readonly Uint8Array[]): Promise<LoadedKey> {
  let privateText: string | undefined;
  for (const sealKey of sealKeys) {
    try {
      privateText = openText(sealKey, row.privateJwk);
      break;
    } catch {
      // Sealed with another secret: try the next one.
    }
  }
  if (privateText === undefined) {
    throw new Error(
      `signing key ${row.kid} cannot be decrypted with SECRET_KEY or PREVIOUS_SECRET_KEYS (was SECRET_KEY changed? put the old one in PREVIOUS_SECRET_KEYS)`,
    );
  }
  const publicJwk = JSON.parse(row.publicJwk) as PublicJwk;
  return {
    kid: row.kid,
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

/** `keys rotate`: a new active key; the others are retired but verify until their tokens expire. */
export async function rotateSigningKey(options: KeyRingOptions): Promise<SigningKey> {
  if (options.algorithm === 'HS256') {
    throw new Error('ALGORITHM=HS256 signs with SECRET_KEY: rotate by changing SECRET_KEY');
  }
  const fresh = await generateSigningKey(
    options.algorithm,
    deriveKey(options.secretKey, 'signing-keys'),
    options.clock(),
  );
  await options.store.transaction(async (tx) => {
    for (const key of await tx.signingKeys.list()) {
      if (key.retiredAt === null && key.alg === options.algorithm)
        await tx.signingKeys.retire(key.kid, fresh.createdAt);
    }
    await tx.signingKeys.insert(fresh);
  });
  return fresh;
}
