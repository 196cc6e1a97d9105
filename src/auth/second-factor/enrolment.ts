// Turning TOTP on and off for the signed-in user: enrolment, confirmation (which hands out the
// recovery codes, once), status and removal.
import { AppError, isAppError, ValidationError } from '../../errors/index.ts';
import { ConflictError, type User } from '../../store/index.ts';
import { recordAudit } from '../audit/index.ts';
import { requirePassword } from '../lockout/index.ts';
import type { Uses } from '../services.ts';
import { endOtherSessions, endSessionsIn } from '../sessions/index.ts';
import { hashRecoveryCode, newRecoveryCodes } from './recovery-codes.ts';
import { matchTotp, newTotpSecret, otpauthUri, qrSvg } from './totp.ts';
import { openStoredSecret, sealForStorage } from './totp-secrets.ts';
import { type AttemptContext, badCode, verifySecondFactor } from './verify.ts';

export interface Enrolment {
  secret: string;
  otpauth_uri: string;
  qr_svg: string;
}

export interface TotpStatus {
  enabled: boolean;
  pending: boolean;
  recovery_codes_left: number;
}

const alreadyOn = (): AppError =>
  new AppError(
    'totp_already_enabled',
    'Two-factor authentication is already on; disable it first.',
  );

/** A new pending secret (replacing a pending one); it becomes a factor only once confirmed. */
export async function startTotpEnrolment(
  s: Uses<'clock' | 'secrets' | 'store', 'totpIssuer'>,
  user: User,
): Promise<Enrolment> {
  const current = await s.store.totp.find(user.id);
  if (current?.confirmedAt != null) throw alreadyOn();
  const secret = newTotpSecret();
  try {
    await s.store.transaction((tx) =>
      tx.totp.savePending(user.id, sealForStorage(s, user.id, secret), s.clock()),
    );
  } catch (error) {
    // Confirmed by a concurrent request in between: the unique user_id refuses the pending row.
    if (error instanceof ConflictError) throw alreadyOn();
    throw error;
  }
  const uri = otpauthUri(s.config.totpIssuer, user.username, secret);
  return { secret, otpauth_uri: uri, qr_svg: await qrSvg(uri) };
}

/** Confirms the pending secret with a code from the app; returns the ten recovery codes, once. */
export async function confirmTotp(
  s: Uses<'clock' | 'revocations' | 'secrets' | 'store'>,
  user: User,
  code: string,
  currentSessionId: string,
): Promise<string[]> {
  const credential = await s.store.totp.find(user.id);
  if (!credential || credential.confirmedAt !== null) {
    throw new AppError(
      credential ? 'totp_already_enabled' : 'totp_not_pending',
      credential
        ? 'Two-factor authentication is already on.'
        : 'No enrolment is pending: start one with POST /users/me/totp.',
    );
  }
  const secret = await openStoredSecret(s, credential).catch((error: unknown) => {
    // Sealed under a SECRET_KEY that is gone: nothing was turned on yet, so the user starts again.
    if (isAppError(error, 'second_factor_unavailable')) {
      throw new AppError(
        'totp_not_pending',
        'The pending enrolment can no longer be read: start again with POST /users/me/totp.',
      );
    }
    throw error;
  });
  const now = s.clock();
  const step = matchTotp(secret, code.trim(), now);
  if (step === undefined) throw badCode();
  const codes = newRecoveryCodes();
  const hashes = codes.map((c) => hashRecoveryCode(c.replaceAll('-', '')));
  const entries = await s.store.transaction(async (tx) => {
    // The confirming code is spent too: it cannot be replayed at the next login.
    if (!(await tx.totp.useStep(user.id, step))) throw badCode();
    if (!(await tx.totp.confirm(user.id, now))) throw alreadyOn();
    await tx.recoveryCodes.replace(user.id, hashes, now);
    // A factor was added: a password-only sign-in that read "no second factor" just before is
    // refused by the bump, and sessions opened without the factor end here (ASVS 7.4.3), listed
    // after the bump so none made meanwhile escapes; this one stays.
    await tx.users.update(user.id, { bumpSecurityVersion: true }, now);
    const others = (await tx.sessions.listActive(user.id, now))
      .map((x) => x.id)
      .filter((id) => id !== currentSessionId);
    const ended = await endSessionsIn(s, tx, others, now);
    await recordAudit(tx, {
      type: 'totp.enable',
      actorId: user.id,
      subjectId: user.id,
      details: { sessions_ended: others },
    });
    return ended;
  });
  s.revocations.apply(entries);
  return codes;
}

export async function totpStatus(s: Uses<'store'>, userId: string): Promise<TotpStatus> {
  const credential = await s.store.totp.find(userId);
  const enabled = credential !== undefined && credential.confirmedAt !== null;
  return {
    enabled,
    pending: credential !== undefined && !enabled,
    recovery_codes_left: enabled ? await s.store.recoveryCodes.countUnused(userId) : 0,
  };
}

/** Turns TOTP off (or drops a pending enrolment) after proof: the password, or a current code. */
export async function disableTotp(
  s: Uses<
    'clock' | 'hasher' | 'kv' | 'revocations' | 'secrets' | 'store',
    | 'lockoutBaseSeconds'
    | 'lockoutMaxSeconds'
    | 'lockoutQueueSeconds'
    | 'lockoutThreshold'
    | 'lockoutWindowSeconds'
  >,
  user: User,
  proof: { password?: string | undefined; code?: string | undefined },
  currentSessionId: string,
  context: AttemptContext = {},
): Promise<void> {
  const credential = await s.store.totp.find(user.id);
  if (!credential) {
    throw new AppError('totp_not_enabled', 'Two-factor authentication is not on.');
  }
  if (proof.password === undefined && proof.code === undefined) {
    throw new ValidationError('Send the password or a code.', [
      { field: 'body', message: 'password or code is required' },
    ]);
  }
  // Like every password check for a sensitive change, a wrong one counts toward the lockout.
  if (proof.password !== undefined) await requirePassword(s, user, proof.password, 'password');
  const enabled = credential.confirmedAt !== null;
  if (proof.code !== undefined) {
    if (enabled) await verifySecondFactor(s, user, proof.code, context);
    else {
      const secret = await openStoredSecret(s, credential);
      if (matchTotp(secret, proof.code.trim(), s.clock()) === undefined) throw badCode();
    }
  }
  await s.store.transaction(async (tx) => {
    await tx.totp.delete(user.id);
    await tx.recoveryCodes.deleteAll(user.id);
    if (enabled)
      await recordAudit(tx, { type: 'totp.disable', actorId: user.id, subjectId: user.id });
  });
  // A factor was removed: other sessions end (ASVS 7.4.3), whoever removed it keeps this one.
  if (enabled) await endOtherSessions(s, user.id, currentSessionId);
}

/**
 * The operator's way back for an account whose second factor cannot be used (its TOTP secret sealed
 * under a SECRET_KEY that is gone, or the device and codes lost): removes the enrolment and the
 * recovery codes, ends every session of the account and records who did it. False if there was none.
 */
export async function resetSecondFactor(
  s: Uses<'clock' | 'revocations' | 'store'>,
  userId: string,
  actorId: string | null = null,
): Promise<boolean> {
  const removed = await s.store.transaction(async (tx) => {
    const had = await tx.totp.delete(userId);
    const codes = await tx.recoveryCodes.deleteAll(userId);
    if (!had && codes === 0) return false;
    await recordAudit(tx, {
      type: 'admin.totp_reset',
      actorId,
      subjectId: userId,
      details: { codes_removed: codes },
    });
    return true;
  });
  // A factor was removed by someone else: every session of the account ends (ASVS 7.4.3).
  if (removed) {
    await endOtherSessions(s, userId, undefined, {
      type: 'session.end',
      actorId,
      details: { reason: 'second_factor_reset' },
    });
  }
  return removed;
}
