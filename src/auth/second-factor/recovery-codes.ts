// Recovery codes: ten single-use codes shown once at enrolment, stored as hashes.
import { createHash, randomBytes } from 'node:crypto';
import { Secret } from 'otpauth';
import { hmacSha256 } from '../../crypto/random.ts';
import type { SecretRing } from '../../crypto/secret-ring.ts';

export const RECOVERY_CODE_COUNT = 10;
// 120 bits each: above ASVS 6.5.2's 112-bit floor, so a fast unkeyed hash suffices (no guessing).
const CODE_BYTES = 15;
const CODE_CHARS = 24;
const STORED_PREFIX = 'sha256:';
const LEGACY_PURPOSE = 'recovery-code-hash';

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

/**
 * How a new code is stored: plain SHA-256. A key adds nothing against 120 random bits, and codes
 * keyed by nothing survive a SECRET_KEY change: they are the way in when the TOTP secret is lost.
 */
export function hashRecoveryCode(normalized: string): string {
  return STORED_PREFIX + createHash('sha256').update(normalized, 'utf8').digest('base64url');
}

/**
 * Every form a code may be stored under: today's, then the HMAC keyed from SECRET_KEY that earlier
 * versions stored, with the current and each previous secret.
 */
export function recoveryCodeHashes(secrets: SecretRing, normalized: string): string[] {
  const legacy = secrets.keys(LEGACY_PURPOSE).map((key) => hmacSha256(key, normalized));
  return [hashRecoveryCode(normalized), ...legacy];
}
