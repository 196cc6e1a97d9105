// TOTP (RFC 6238) codes: secrets, the otpauth:// URI and its QR code, and matching a code to a time
// step. Which steps may still be used (replay) is the store's business: see TotpRepository.useStep.
import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { constantTimeEqual, openText, sealText } from '../../crypto/random.ts';

export interface TotpParams {
  algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  digits: number;
  /** Seconds per time step. */
  period: number;
}

// What every authenticator app understands: SHA-1, 6 digits, 30 s (RFC 6238 §5.2 default step).
export const TOTP_PARAMS: TotpParams = Object.freeze({ algorithm: 'SHA1', digits: 6, period: 30 });

// RFC 4226 §4 asks for at least 128 bits and recommends 160.
const SECRET_BYTES = 20;

/** A fresh secret, base32 (RFC 4648) as authenticator apps take it. */
export function newTotpSecret(): string {
  return new Secret({ buffer: Uint8Array.from(randomBytes(SECRET_BYTES)).buffer }).base32;
}

/** The time step of a moment (ms since the epoch). */
export function timeStep(nowMs: number, params: TotpParams = TOTP_PARAMS): number {
  return Math.floor(nowMs / 1000 / params.period);
}

export function totpCode(
  secretBase32: string,
  step: number,
  params: TotpParams = TOTP_PARAMS,
): string {
  return TOTP.generate({
    secret: Secret.fromBase32(secretBase32),
    algorithm: params.algorithm,
    digits: params.digits,
    period: params.period,
    timestamp: step * params.period * 1000,
  });
}

/**
 * The time step whose code `code` is, among the current step and its neighbours (RFC 6238 §5.2: one
 * step of drift either way), or undefined. Every candidate is computed and compared in constant time.
 */
export function matchTotp(
  secretBase32: string,
  code: string,
  nowMs: number,
  params: TotpParams = TOTP_PARAMS,
): number | undefined {
  if (code.length !== params.digits || !/^\d+$/.test(code)) return undefined;
  const current = timeStep(nowMs, params);
  let found: number | undefined;
  // The current step first, so that a code valid for two steps is taken as the current one.
  for (const step of [current, current - 1, current + 1]) {
    const same = constantTimeEqual(totpCode(secretBase32, step, params), code);
    if (same && found === undefined) found = step;
  }
  return found;
}

/** Google's Key URI format, as authenticator apps scan it. */
export function otpauthUri(issuer: string, account: string, secretBase32: string): string {
  return new TOTP({
    issuer,
    label: account,
    secret: Secret.fromBase32(secretBase32),
    ...TOTP_PARAMS,
  }).toString();
}

export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

/** The purpose of the subkey (of SECRET_KEY, see SecretRing) that TOTP secrets are sealed with. */
export const TOTP_SEAL_PURPOSE = 'totp-secret';

/** The secret encrypted for storage; the user id is sealed with it, so rows cannot be swapped. */
export function sealTotpSecret(sealKey: Uint8Array, userId: string, secretBase32: string): string {
  return sealText(sealKey, `${userId}:${secretBase32}`);
}

/** The base32 secret; throws if the sealed text is damaged, from another key or another user's. */
export function openTotpSecret(sealKey: Uint8Array, userId: string, sealed: string): string {
  const plain = openText(sealKey, sealed);
  const prefix = `${userId}:`;
  if (!plain.startsWith(prefix)) throw new Error('cannot decrypt');
  return plain.slice(prefix.length);
}
