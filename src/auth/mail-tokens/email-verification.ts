// Email verification: a mailed single-use link proves the address; changing the address voids it.
import { AppError } from '../../errors/index.ts';
import { accountLink, emailVerificationMail } from '../../mail/templates.ts';
import type { User } from '../../store/index.ts';
import { recordAudit } from '../audit/index.ts';
import type { Uses } from '../services.ts';
import {
  ACCOUNT_TOKEN_TTL_MS,
  badAccountToken,
  findLiveToken,
  issueAccountToken,
  redeemAccountToken,
} from './account-tokens.ts';

// Bound to the address it was sent to: after a change of address the old link proves nothing.
const verificationBinding = (user: User): string => user.email;

async function issueVerification(
  s: Uses<'clock' | 'mailer' | 'secrets' | 'store', 'publicUrl'>,
  user: User,
): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
  const issued = await issueAccountToken(s, user, 'email_verification', verificationBinding(user));
  if (!('token' in issued)) return { ok: false, retryAfterMs: issued.retryAfterMs };
  const message = emailVerificationMail({
    to: user.email,
    username: user.username,
    link: accountLink(s.config.publicUrl, 'verify', issued.token),
    hours: ACCOUNT_TOKEN_TTL_MS.email_verification / 3_600_000,
  });
  s.mailer.later(async () => message);
  return { ok: true };
}

/** POST /verify/request: a new link to the user's address; 409 when verified, 429 within a minute. */
export async function requestVerification(
  s: Uses<'clock' | 'mailer' | 'secrets' | 'store', 'publicUrl'>,
  user: User,
): Promise<void> {
  if (user.isVerified) {
    throw new AppError('already_verified', 'This email address is already verified.');
  }
  const result = await issueVerification(s, user);
  if (!result.ok) {
    throw new AppError(
      'too_many_requests',
      'A verification link was sent less than a minute ago; wait before asking for another.',
      { retryAfter: Math.max(1, Math.ceil(result.retryAfterMs / 1000)) },
    );
  }
}

/** A link for a user who cannot ask for one (at registration, or refused at login); quiet on cooldown. */
export function sendVerificationLater(
  s: Uses<'clock' | 'mailer' | 'secrets' | 'store', 'publicUrl'>,
  user: User,
): void {
  s.mailer.later(async () => {
    await issueVerification(s, user);
    return undefined;
  });
}

/** POST /verify: marks the address the token was sent to as verified. */
export async function verifyEmail(
  s: Uses<'clock' | 'secrets' | 'store'>,
  token: string,
): Promise<User> {
  const live = await findLiveToken(s, 'email_verification', token, verificationBinding);
  return s.store.transaction(async (tx) => {
    const now = s.clock();
    await redeemAccountToken(tx, live, now);
    // Only while the address the link was sent to is still stored: a change since the token was
    // checked voids it, as it would had the change come first (the throw rolls back the redeem).
    const user = await tx.users.update(live.user.id, { isVerified: true }, now, {
      email: live.user.email,
    });
    if (!user) throw badAccountToken();
    await recordAudit(tx, { type: 'email.verify', actorId: live.user.id, subjectId: live.user.id });
    return user;
  });
}

/** With REQUIRE_VERIFIED_EMAIL, an unverified user gets no tokens, and a fresh link instead. */
export function requireVerifiedEmail(
  s: Uses<'clock' | 'mailer' | 'secrets' | 'store', 'publicUrl' | 'requireVerifiedEmail'>,
  user: User,
): void {
  if (!s.config.requireVerifiedEmail || user.isVerified) return;
  sendVerificationLater(s, user);
  // Told only to someone who has proved the password (and second factor), so it reveals nothing.
  throw new AppError(
    'email_not_verified',
    'Confirm your email address before signing in: a link has been sent to it.',
  );
}
