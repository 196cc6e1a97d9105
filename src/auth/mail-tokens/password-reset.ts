// Password reset: a mailed single-use link. The request answers the same whether or not
// the account exists; the lookup and the mail happen after the answer has gone out.

import type { MailMessage } from '../../mail/templates.ts';
import { accountLink, passwordChangedMail, passwordResetMail } from '../../mail/templates.ts';
import type { User } from '../../store/index.ts';
import { enforcePasswordPolicy } from '../accounts/index.ts';
import { recordAudit } from '../audit/index.ts';
import { parseEmail } from '../identity/index.ts';
import type { Uses } from '../services.ts';
import { endSessionsIn } from '../sessions/index.ts';
import {
  ACCOUNT_TOKEN_TTL_MS,
  badAccountToken,
  decoyAccountToken,
  findLiveToken,
  issueAccountToken,
  redeemAccountToken,
} from './account-tokens.ts';

// Bound to the password and the address: a password changed by other means, or a new address,
// voids every reset link sent before.
const resetBinding = (user: User): string => `${user.passwordHash}\n${user.email}`;

/**
 * Schedules the reset mail for `email` and returns at once, whether or not an account uses it: the
 * caller's answer and its timing are the same either way (no enumeration).
 */
export function requestPasswordReset(
  s: Uses<'clock' | 'mailer' | 'secrets' | 'store', 'publicUrl'>,
  email: string,
): void {
  s.mailer.later(() => composeResetMail(s, email));
}

async function composeResetMail(
  s: Uses<'clock' | 'secrets' | 'store', 'publicUrl'>,
  email: string,
): Promise<MailMessage | undefined> {
  const parsed = parseEmail(email);
  const user = parsed.ok ? await s.store.users.findByEmailNorm(parsed.normalized) : undefined;
  // A disabled account cannot be reopened by mail. Unknown or not, the same work is done.
  if (!user?.isActive) {
    resetMail(s, email, 'unknown', await decoyAccountToken(s, 'password_reset'));
    return undefined;
  }
  const issued = await issueAccountToken(s, user, 'password_reset', resetBinding(user));
  if (!('token' in issued)) return undefined;
  // The stored address, never the one typed: look-alike addresses cannot receive the link.
  return resetMail(s, user.email, user.username, issued.token);
}

function resetMail(
  s: Uses<never, 'publicUrl'>,
  to: string,
  username: string,
  token: string,
): MailMessage {
  return passwordResetMail({
    to,
    username,
    link: accountLink(s.config.publicUrl, 'reset', token),
    minutes: ACCOUNT_TOKEN_TTL_MS.password_reset / 60_000,
  });
}

/** Sets the new password with a reset token, then ends every session of the user. */
export async function resetPassword(
  s: Uses<
    'clock' | 'hasher' | 'mailer' | 'revocations' | 'secrets' | 'store',
    'passwordMaxLength' | 'passwordMinLength'
  >,
  token: string,
  newPassword: string,
): Promise<void> {
  const live = await findLiveToken(s, 'password_reset', token, resetBinding);
  const { user } = live;
  // The policy is checked before the token is spent, so a refused password can be retried.
  enforcePasswordPolicy(s, newPassword, user, 'new_password');
  const passwordHash = await s.hasher.hash(newPassword);
  const entries = await s.store.transaction(async (tx) => {
    const now = s.clock();
    await redeemAccountToken(tx, live, now);
    // Only over the password the link was bound to: a change by other means during the hash voids
    // the link, as it would have before. The bump refuses sign-ins with the old password in flight.
    const changed = await tx.users.update(
      user.id,
      // An account made through an identity provider gets its first password here (SPEC §9).
      { passwordHash, hasPassword: true, bumpSecurityVersion: true },
      now,
      { passwordHash: user.passwordHash },
    );
    if (!changed) throw badAccountToken();
    // The password is set even if the address changed during the hash: the link was good when
    // used, and the reset ends every session, whoever changed the address.
    // The link reached the address it was sent to, which proves that address as a verification
    // link would, and only that one: verified only while it is still the stored address.
    const proved = await tx.users.update(user.id, { isVerified: true }, now, { email: user.email });
    // Whoever knew the old password may hold sessions: end all of them, live access tokens
    // included, in this transaction (listed after the write above, so none made meanwhile escapes).
    const active = await tx.sessions.listActive(user.id, now);
    const ended = await endSessionsIn(
      s,
      tx,
      active.map((x) => x.id),
      now,
    );
    await recordAudit(tx, {
      type: 'password.reset',
      actorId: user.id,
      subjectId: user.id,
      details: { email_verified: proved !== undefined, sessions_ended: active.map((x) => x.id) },
    });
    return ended;
  });
  s.revocations.apply(entries);
  s.mailer.later(async () => passwordChangedMail({ to: user.email, username: user.username }));
}
