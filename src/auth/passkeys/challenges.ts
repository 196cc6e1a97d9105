// The ceremonies' challenges: random (the library's 32 bytes), single use, valid five minutes, and
// bound to the browser that asked: an HttpOnly cookie holds a random id, and only its keyed hash is
// stored beside the challenge, so a challenge leaked from one browser is useless in another.
import { decodeClientDataJSON } from '@simplewebauthn/server/helpers';
import { hmacSha256, randomToken } from '../../crypto/random.ts';
import { AppError } from '../../errors/index.ts';
import type { ChallengePurpose } from '../../store/index.ts';
import type { Uses } from '../services.ts';

export const CHALLENGE_TTL_MS = 5 * 60_000;

/** A fresh id for the browser's binding cookie (when it has none, or a malformed one). */
export function newBrowserBinding(): string {
  return randomToken(32);
}

/** Whether a cookie value can be a binding id this server made (43 base64url characters). */
export function isBrowserBinding(value: string | undefined): value is string {
  return value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value);
}

function bindingHash(s: Uses<'secrets'>, binding: string): string {
  return hmacSha256(s.secrets.key('webauthn-binding'), binding);
}

export async function saveChallenge(
  s: Uses<'clock' | 'secrets' | 'store'>,
  binding: string,
  challenge: string,
  purpose: ChallengePurpose,
  userId: string | null,
): Promise<void> {
  const now = s.clock();
  await s.store.passkeyChallenges.insert({
    challenge,
    bindingHash: bindingHash(s, binding),
    purpose,
    userId,
    createdAt: now,
    expiresAt: now + CHALLENGE_TTL_MS,
  });
}

export const badPasskey = (detail = 'The passkey could not be verified.'): AppError =>
  new AppError('invalid_passkey', detail);

/** The challenge the response signed, as sent in its clientDataJSON (the JSON, not verified yet). */
export function signedChallenge(clientDataJSON: string): string {
  try {
    const { challenge } = decodeClientDataJSON(clientDataJSON);
    if (typeof challenge === 'string' && challenge !== '') return challenge;
  } catch {
    // Malformed base64url or JSON: the same refusal as a missing challenge.
  }
  throw badPasskey('The response has no readable clientDataJSON.');
}

/**
 * Spends the challenge the response signed, if this browser was given it for this purpose (and user)
 * in the last five minutes. Spent before the signature is checked: every attempt costs a challenge.
 */
export async function spendChallenge(
  s: Uses<'clock' | 'secrets' | 'store'>,
  binding: string | undefined,
  clientDataJSON: string,
  purpose: ChallengePurpose,
  userId: string | null,
): Promise<string> {
  const challenge = signedChallenge(clientDataJSON);
  const expired = badPasskey('The passkey request expired or was already used: try again.');
  if (!isBrowserBinding(binding)) throw expired;
  const spent = await s.store.passkeyChallenges.consume(
    challenge,
    { bindingHash: bindingHash(s, binding), purpose, userId },
    s.clock(),
  );
  if (!spent) throw expired;
  return challenge;
}
