// Signing access tokens with node:crypto, synchronously. A compact JWS (RFC 7515 §7.1) is
// BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature over the first two parts).
// jose signs through WebCrypto, which runs every signature as an async job: twice the CPU of a
// direct call, paid on every login and every refresh. Verification stays with jose, and the
// tests verify what this signs with jose for all four algorithms.
import { createHmac, createSecretKey, KeyObject, sign, type webcrypto } from 'node:crypto';
import type { Algorithm } from '../config/settings.ts';
import type { VerifyKey } from './keys.ts';

const keyObjects = new WeakMap<object, KeyObject>();

function keyObjectOf(key: VerifyKey): KeyObject {
  let found = keyObjects.get(key);
  if (!found) {
    found =
      key instanceof Uint8Array
        ? createSecretKey(key)
        : KeyObject.from(key as unknown as webcrypto.CryptoKey);
    keyObjects.set(key, found);
  }
  return found;
}

function signature(alg: Algorithm, data: Buffer, key: KeyObject): Buffer {
  switch (alg) {
    case 'HS256':
      return createHmac('sha256', key).update(data).digest();
    case 'ES256':
      // RFC 7518 §3.4: the signature is R || S (64 bytes), not the DER that OpenSSL writes. Converted
      // here: Node's own `dsaEncoding` option costs more than the signature (it probes the options
      // object's type by throwing).
      return derToRaw(sign('sha256', data, key), 32);
    case 'RS256':
      // RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), OpenSSL's default padding for RSA keys.
      return sign('sha256', data, key);
    case 'EdDSA':
      // Ed25519 (RFC 8037): the algorithm hashes internally, so no digest is named.
      return sign(null, data, key);
  }
}

/** ECDSA-Sig-Value (DER: SEQUENCE { r INTEGER, s INTEGER }) → r || s, each left-padded to `size`. */
export function derToRaw(der: Buffer, size: number): Buffer {
  let at = 2;
  // A SEQUENCE longer than 127 bytes has a long-form length (one more byte); not for P-256, but safe.
  if ((der[1] ?? 0) & 0x80) at += (der[1] ?? 0) & 0x7f;
  const out = Buffer.alloc(size * 2);
  for (let part = 0; part < 2; part++) {
    if (der[at] !== 0x02) throw new Error('ECDSA signature: INTEGER expected');
    const length = der[at + 1] ?? 0;
    let start = at + 2;
    let bytes = length;
    // A leading zero only keeps the INTEGER positive.
    while (bytes > size && der[start] === 0) {
      start++;
      bytes--;
    }
    if (bytes > size) throw new Error('ECDSA signature: INTEGER too long');
    der.copy(out, part * size + (size - bytes), start, start + bytes);
    at += 2 + length;
  }
  return out;
}

/** A compact JWS of `payload` with this protected header, signed with `key` for `alg`. */
export function signJws(
  alg: Algorithm,
  header: { typ: string; kid: string },
  payload: object,
  key: VerifyKey,
): string {
  const protectedHeader = Buffer.from(JSON.stringify({ alg, ...header })).toString('base64url');
  const input = `${protectedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const data = Buffer.from(input, 'ascii');
  return `${input}.${signature(alg, data, keyObjectOf(key)).toString('base64url')}`;
}
