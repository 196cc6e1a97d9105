// The password step of a sign-in: the lookup by name, the lockout (checks of one name wait their
// turn), the dummy hash for unknown names, and the upgrade of legacy hashes.
import { AppError } from '../../errors/index.ts';
import type { Store, User } from '../../store/index.ts';
import { recordAudit } from '../audit/index.ts';
import { normalizeLogin, parseEmail, parseUsername } from '../identity/index.ts';
import {
  type AttemptContext,
  accountLockoutKeys,
  checkLockout,
  lockoutKey,
  recordFailure,
  resetLockout,
  userLockoutKey,
  withAttemptSlot,
} from '../lockout/index.ts';
import { hasSecondFactor } from '../second-factor/index.ts';
import type { Uses } from '../services.ts';

// One answer for unknown user and wrong password, so the response reveals nothing.
const badCredentials = (): AppError =>
  new AppError('invalid_grant', 'Incorrect username or password.');

export async function findUserByLogin(store: Store, login: string): Promise<User | undefined> {
  const { kind, normalized } = normalizeLogin(login);
  return kind === 'email'
    ? store.users.findByEmailNorm(normalized)
    : store.users.findByUsernameNorm(normalized);
}

/** The name a failed login tried, for the audit log: only if it is a valid name (a password typed
 * into the username field must not be kept). */
function attemptedLogin(login: string): Record<string, unknown> {
  const valid = login.length <= 320 && (parseUsername(login).ok || parseEmail(login).ok);
  return valid ? { login: normalizeLogin(login).normalized } : { login_malformed: true };
}

async function loginFailed(
  s: Uses<'clock' | 'store'>,
  login: string,
  reason: 'unknown_user' | 'bad_password' | 'no_password' | 'inactive',
  user: User | undefined,
): Promise<AppError> {
  // Recorded for unknown users too, so both failures cost the same database work.
  await recordAudit(s.store, {
    type: 'login.failure',
    actorId: null,
    subjectId: user?.id ?? null,
    at: s.clock(),
    details: { reason, ...attemptedLogin(login) },
  });
  return reason === 'inactive'
    ? // Told only to someone who knows the password, so it leaks nothing an attacker could use.
      new AppError('invalid_grant', 'This account is disabled.')
    : badCredentials();
}

/**
 * Checks a password; unknown users cost one dummy verification so timing reveals nothing. Under the
 * lockout: refused with 429 while the delay of the name or of the account runs, even with
 * the right password; checks of one name wait their turn (lockout.ts withAttemptSlot).
 */
export async function authenticate(
  s: Uses<
    'clock' | 'hasher' | 'kv' | 'store',
    | 'lockoutBaseSeconds'
    | 'lockoutMaxSeconds'
    | 'lockoutQueueSeconds'
    | 'lockoutThreshold'
    | 'lockoutWindowSeconds'
    | 'passwordMaxLength'
  >,
  login: string,
  password: string,
  context: AttemptContext = {},
): Promise<User> {
  // Keyed on the name as typed, so unknown accounts are slowed exactly like real ones.
  const key = lockoutKey(login);
  return withAttemptSlot(s, key, () => verifyLogin(s, key, login, password, context));
}

async function verifyLogin(
  s: Uses<
    'clock' | 'hasher' | 'kv' | 'store',
    | 'lockoutBaseSeconds'
    | 'lockoutMaxSeconds'
    | 'lockoutThreshold'
    | 'lockoutWindowSeconds'
    | 'passwordMaxLength'
  >,
  key: string,
  login: string,
  password: string,
  context: AttemptContext,
): Promise<User> {
  const oversized = password.length > s.config.passwordMaxLength * 4 || login.length > 320;
  const user = oversized ? undefined : await findUserByLogin(s.store, login);
  // The account's own delay (second-factor failures, password re-checks) stops the password step
  // too. An unknown name reads a key that never exists, so both cost the same kv work.
  await checkLockout(s, user ? userLockoutKey(user) : `unknown:${key}`);
  if (!user) {
    await s.hasher.verifyDummy(password);
    await recordFailure(s, key, context);
    throw await loginFailed(s, login, 'unknown_user', undefined);
  }
  // An account made through an identity provider has no password (SPEC §9): the same answer as a
  // wrong one, after the same work, so the password grant does not tell such accounts apart.
  const matches = user.hasPassword
    ? await s.hasher.verify(user.passwordHash, password)
    : await s.hasher.verifyDummy(password);
  if (!matches) {
    await recordFailure(s, key, { ...context, userId: user.id });
    throw await loginFailed(s, login, user.hasPassword ? 'bad_password' : 'no_password', user);
  }
  // A right password clears the failures of both names of the account (what users expect of "a
  // success resets it"), but not the account's own count while a second factor is still to come:
  // knowing the password must not reset the count of wrong codes.
  const cleared = accountLockoutKeys(user);
  if (!(await hasSecondFactor(s, user.id))) cleared.push(userLockoutKey(user));
  await resetLockout(s, cleared);
  if (!user.isActive) throw await loginFailed(s, login, 'inactive', user);
  if (s.hasher.needsRehash(user.passwordHash)) {
    // Legacy (bcrypt) or weaker hashes are upgraded while the plaintext is at hand.
    const upgraded = await s.hasher.hash(password);
    // Only over the hash just checked: a password changed meanwhile must not be overwritten.
    const expected = { passwordHash: user.passwordHash, securityVersion: user.securityVersion };
    return (
      (await s.store.users.update(user.id, { passwordHash: upgraded }, s.clock(), expected)) ?? user
    );
  }
  return user;
}
