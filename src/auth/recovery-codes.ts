// Recovery codes: ten single-use codes shown once at enrolment, stored as keyed hashes.
import { randomBytes } from 'node:crypto';
import { Secret } from 'otpauth';
import { deriveKey, hmacSha256 } from '../crypto/random.ts';

export const RECOVERY_CODE_COUNT = 10;
// 120 bits each: above ASVS 6.5.2's 112-bit floor, so a keyed hash (not a slow one) suffices.
const CODE_BYTES = 15;
const CODE_CHARS = 24;

/** Ten fresh codes, lowercase base32 in groups of four: `abcd-efgh-ijkl-mnop-qrst-uvwx`. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const text = new Secret({ buffer: Uint8Array.from(randomBytes(CODE_BYTES)).buffer }).base32;
    return (text.toLowerCase().match(/.{4}/g) ?? []).join('-');
  });
}

/** The canonical form of a typed code (case, spaces and dashes ignored), or undefined if it is none. */
export function normalizeRecoveryCode(input: string): string | undefined {
  if (input.length > 64) return undefined;
  const compact = input.toLowerCase().replace(/[\s-]/g, '');
  return compact.length === CODE_CHARS && /^[a-z2-7]+$/.test(compact) ? compact : undefined;
}

export function hashRecoveryCode(secretKey: Uint8Array, normalized: string): string {
  return hmacSha256(deriveKey(secretKey, 'recovery-code-hash'), normalized);
}
