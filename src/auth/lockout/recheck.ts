// Password re-checks for sensitive changes (a password change, deletion, turning 2FA off): the same
// lockout as sign-ins, under the account's own key, so a stolen access token is no password oracle.
import { AppError } from '../../errors/index.ts';
import type { User } from '../../store/index.ts';
import type { Uses } from '../services.ts';
import {
  accountLockoutKeys,
  allLockoutKeys,
  checkLockout,
  recordFailure,
  resetLockout,
  userLockoutKey,
  withAttemptSlot,
} from './lockout.ts';

/** Checks the user's password for a sensitive change; failures count toward the lockout. */
export async function requirePassword(
  s: Uses<
    'clock' | 'hasher' | 'kv' | 'store',
    | 'lockoutBaseSeconds'
    | 'lockoutMaxSeconds'
    | 'lockoutQueueSeconds'
    | 'lockoutThreshold'
    | 'lockoutWindowSeconds'
  >,
  user: User,
  password: string,
  field: string,
): Promise<void> {
  // A stolen access token must not become a password oracle: these failures count toward the
  // same lockout as logins, under the account's own key, which the login of either name checks.
  const account = userLockoutKey(user);
  await withAttemptSlot(s, account, async () => {
    await checkLockout(s, allLockoutKeys(user));
    if (!(await s.hasher.verify(user.passwordHash, password))) {
      await recordFailure(s, account, { userId: user.id });
      throw new AppError('invalid_password', 'The password is incorrect.', {
        errors: [{ field, message: 'incorrect password' }],
      });
    }
    // As at login: a right password clears both names, and the account's own count only when
    // no second factor is left to prove (a password must not reset the count of wrong codes).
    const cleared = accountLockoutKeys(user);
    // A confirmed TOTP credential is a second factor (the lockout sits below second-factor/).
    const factor = await s.store.totp.find(user.id);
    if (factor?.confirmedAt == null) cleared.push(account);
    await resetLockout(s, cleared);
  });
}
