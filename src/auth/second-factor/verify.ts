// Checking a second factor (a TOTP code or a recovery code) for a user who has one. Every failure,
// wherever it happens, goes through `secondFactorFailed`, which counts it toward the lockout.
import { AppError } from '../../errors/index.ts';
import type { User } from '../../store/index.ts';
import { recordAudit } from '../audit/index.ts';
import {
  allLockoutKeys,
  checkLockout,
  recordFailure,
  resetLockout,
  userLockoutKey,
  withAttemptSlot,
} from '../lockout/index.ts';
import type { Uses } from '../services.ts';
import { normalizeRecoveryCode, recoveryCodeHashes } from './recovery-codes.ts';
import { matchTotp } from './totp.ts';
import { openStoredSecret } from './totp-secrets.ts';

export interface AttemptContext {
  ip?: string | null;
  userAgent?: string | null;
}

/**
 * Called once for every wrong, replayed or malformed second factor of a known user: it counts
 * toward the same lockout as passwords, under the account's own key, which both names
 * share and which a right password does not clear (else alternating the names with the right
 * password would allow unlimited guesses). Whoever gets here knows the password already, so the
 * password step's 429 under either name reveals nothing to them.
 */
export async function secondFactorFailed(
  s: Uses<
    'clock' | 'kv' | 'store',
    'lockoutBaseSeconds' | 'lockoutMaxSeconds' | 'lockoutThreshold' | 'lockoutWindowSeconds'
  >,
  user: User,
  context: AttemptContext = {},
): Promise<void> {
  await recordFailure(s, userLockoutKey(user), {
    userId: user.id,
    ip: context.ip ?? null,
    userAgent: context.userAgent ?? null,
  });
  await recordAudit(s.store, {
    type: 'login.failure',
    actorId: null,
    subjectId: user.id,
    ip: context.ip ?? null,
    userAgent: context.userAgent ?? null,
    details: { factor: 'second' },
  });
}

export const badCode = (): AppError =>
  new AppError('invalid_otp', 'The code is incorrect, expired or already used.');

export type FactorUsed = 'totp' | 'recovery_code';

/**
 * Accepts `code` once: a TOTP code of the current or an adjacent step newer than the last one
 * used, or an unused recovery code. Anything else is counted as a failure and throws 400 invalid_otp;
 * while the account's lockout delay runs, 429 too_many_attempts without looking at the code. A TOTP
 * code for a secret that no configured SECRET_KEY opens: 400 second_factor_unavailable.
 */
export async function verifySecondFactor(
  s: Uses<
    'clock' | 'kv' | 'secrets' | 'store',
    | 'lockoutBaseSeconds'
    | 'lockoutMaxSeconds'
    | 'lockoutQueueSeconds'
    | 'lockoutThreshold'
    | 'lockoutWindowSeconds'
  >,
  user: User,
  code: string,
  context: AttemptContext = {},
): Promise<FactorUsed> {
  const keys = allLockoutKeys(user);
  // One check at a time per account (later ones wait their turn), none while a delay of the
  // account or of either name runs (429 too_many_attempts): parallel guesses cannot all be tried
  // before the first failure counts.
  return withAttemptSlot(s, userLockoutKey(user), async () => {
    await checkLockout(s, keys);
    const used = await tryFactor(s, user, code.trim());
    if (used === undefined) {
      await secondFactorFailed(s, user, context);
      throw badCode();
    }
    // Both factors are proven: the whole account starts again from zero.
    await resetLockout(s, keys);
    return used;
  });
}

async function tryFactor(
  s: Uses<'clock' | 'secrets' | 'store'>,
  user: User,
  code: string,
): Promise<FactorUsed | undefined> {
  const credential = await s.store.totp.find(user.id);
  // A pending enrolment is no factor yet: its codes are checked only by the confirmation.
  if (!credential || credential.confirmedAt === null) return undefined;
  const now = s.clock();
  if (/^\d+$/.test(code)) {
    // A secret no key opens is 400 second_factor_unavailable, not counted: no code can succeed.
    const secret = await openStoredSecret(s, credential);
    const step = matchTotp(secret, code, now);
    // The conditional update accepts each step once and never one older than the last (replay).
    if (step === undefined || !(await s.store.totp.useStep(user.id, step))) return undefined;
    return 'totp';
  }
  const normalized = normalizeRecoveryCode(code);
  if (normalized === undefined) return undefined;
  const hashes = recoveryCodeHashes(s.secrets, normalized);
  const spent = await s.store.transaction(async (tx) => {
    let consumed = false;
    // Today's form first, then the legacy keyed forms; each consume is conditional (single use).
    for (const hash of hashes) {
      consumed = await tx.recoveryCodes.consume(user.id, hash, now);
      if (consumed) break;
    }
    if (!consumed) return false;
    const remaining = await tx.recoveryCodes.countUnused(user.id);
    await recordAudit(tx, {
      type: 'totp.recovery_used',
      actorId: user.id,
      subjectId: user.id,
      details: { remaining },
    });
    return true;
  });
  return spent ? 'recovery_code' : undefined;
}
