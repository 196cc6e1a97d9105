// The step between password and second factor: a short-lived, single-use mfa_token (opaque, stored
// as a keyed hash) that remembers who passed the password step, for which client and scope.
import { hmacSha256, randomToken } from '../../crypto/random.ts';
import { AppError } from '../../errors/index.ts';
import type { MfaChallenge, User } from '../../store/index.ts';
import type { Uses } from '../services.ts';
import type { ClientInfo } from '../sessions/index.ts';

export const MFA_TOKEN_TTL_MS = 5 * 60_000;
/** Wrong codes one mfa_token survives; then the password step must be done again. */
export const MFA_MAX_FAILURES = 5;

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

const MFA_HASH_PURPOSE = 'mfa-token-hash';

export function mfaTokenHash(s: Uses<'secrets'>, token: string): string {
  return hmacSha256(s.secrets.key(MFA_HASH_PURPOSE), token);
}

export const badMfaToken = (): AppError =>
  new AppError('invalid_grant', 'The mfa_token is invalid, used or expired: sign in again.');

/** Whether the user has a confirmed second factor. */
export async function hasSecondFactor(s: Uses<'store'>, userId: string): Promise<boolean> {
  const credential = await s.store.totp.find(userId);
  return credential !== undefined && credential.confirmedAt !== null;
}

/**
 * After a correct password: if the user has 2FA, no tokens yet. Throws 400 mfa_required carrying
 * a fresh mfa_token for the second step; returns when no second factor is needed.
 */
export async function requireSecondFactor(
  s: Uses<'clock' | 'secrets' | 'store'>,
  user: User,
  scope: string,
  client: ClientInfo,
): Promise<void> {
  if (!(await hasSecondFactor(s, user.id))) return;
  const token = randomToken(32);
  const now = s.clock();
  await s.store.mfaChallenges.insert({
    hash: mfaTokenHash(s, token),
    userId: user.id,
    clientId: client.clientId,
    scope,
    createdAt: now,
    expiresAt: now + MFA_TOKEN_TTL_MS,
    securityVersion: user.securityVersion,
  });
  throw new AppError(
    'mfa_required',
    'This account uses two-factor authentication: send the mfa_token with a code from the authenticator app or a recovery code.',
    { mfa_token: token },
  );
}

/** The live challenge of an mfa_token, or the generic invalid_grant. */
export async function findChallenge(
  s: Uses<'clock' | 'secrets' | 'store'>,
  token: string,
): Promise<MfaChallenge> {
  if (!TOKEN_SHAPE.test(token)) throw badMfaToken();
  let challenge: MfaChallenge | undefined;
  // An mfa_token handed out just before a SECRET_KEY rotation is stored under a previous key.
  for (const key of s.secrets.keys(MFA_HASH_PURPOSE)) {
    challenge = await s.store.mfaChallenges.findByHash(hmacSha256(key, token));
    if (challenge) break;
  }
  if (
    !challenge ||
    challenge.usedAt !== null ||
    challenge.expiresAt <= s.clock() ||
    challenge.failures >= MFA_MAX_FAILURES
  ) {
    throw badMfaToken();
  }
  return challenge;
}
