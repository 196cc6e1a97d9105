// TOTP secrets at rest across a SECRET_KEY rotation: sealed with the current secret's subkey, opened
// with the current one or a previous one (PREVIOUS_SECRET_KEYS) and then re-sealed with the current
// one, so that the previous secret can be dropped later. A secret that no key opens is a clear 400.
import { withAnyKey } from '../../crypto/secret-ring.ts';
import { AppError } from '../../errors/index.ts';
import type { TotpCredential } from '../../store/index.ts';
import type { Uses } from '../services.ts';
import { openTotpSecret, sealTotpSecret, TOTP_SEAL_PURPOSE } from './totp.ts';

// Not invalid_otp: no code can succeed, so it is not counted as a guess, and the user is told the
// way out (a recovery code, or an administrator's `portcullis user reset-2fa`). The cause (a
// SECRET_KEY changed without PREVIOUS_SECRET_KEYS) is the operator's business, not the client's.
export const secondFactorUnavailable = (): AppError =>
  new AppError(
    'second_factor_unavailable',
    'The authenticator app of this account can no longer be checked. Use a recovery code, or ask an administrator to reset the second factor.',
  );

/** The secret sealed for storage with the current SECRET_KEY. */
export function sealForStorage(s: Uses<'secrets'>, userId: string, secretBase32: string): string {
  return sealTotpSecret(s.secrets.key(TOTP_SEAL_PURPOSE), userId, secretBase32);
}

/**
 * The base32 secret of a credential. Opened with a previous secret, it is re-sealed with the current
 * one on the way (once: the update is conditional on the text read). Throws 400
 * second_factor_unavailable when no secret of the ring opens it.
 */
export async function openStoredSecret(
  s: Uses<'secrets' | 'store'>,
  credential: TotpCredential,
): Promise<string> {
  const { userId, secretSealed } = credential;
  const opened = withAnyKey(s.secrets, TOTP_SEAL_PURPOSE, (key) =>
    openTotpSecret(key, userId, secretSealed),
  );
  if (opened === undefined) throw secondFactorUnavailable();
  if (opened.index > 0) {
    await s.store.totp.reseal(userId, secretSealed, sealForStorage(s, userId, opened.value));
  }
  return opened.value;
}

export interface ResealReport {
  /** Sealed with a previous secret, now with the current one. */
  resealed: number;
  /** Already sealed with the current secret. */
  current: number;
  /** User ids whose secret no configured secret opens: `portcullis user reset-2fa` them. */
  unreadable: string[];
}

const RESEAL_PAGE = 500;

/**
 * `keys reseal`: every stored TOTP secret (pending ones too) re-sealed with the current secret, so
 * that PREVIOUS_SECRET_KEYS can be dropped without waiting for each user to sign in.
 */
export async function resealAllTotpSecrets(s: Uses<'secrets' | 'store'>): Promise<ResealReport> {
  const report: ResealReport = { resealed: 0, current: 0, unreadable: [] };
  let after: string | null = null;
  for (;;) {
    const page = await s.store.totp.listAfter(after, RESEAL_PAGE);
    for (const credential of page) {
      const { userId, secretSealed } = credential;
      const opened = withAnyKey(s.secrets, TOTP_SEAL_PURPOSE, (key) =>
        openTotpSecret(key, userId, secretSealed),
      );
      if (opened === undefined) report.unreadable.push(userId);
      else if (opened.index === 0) report.current += 1;
      else {
        const to = sealForStorage(s, userId, opened.value);
        // Changed meanwhile (a re-enrolment, a sign-in that re-sealed it): sealed with the current one.
        await s.store.totp.reseal(userId, secretSealed, to);
        report.resealed += 1;
      }
    }
    if (page.length < RESEAL_PAGE) return report;
    after = page[page.length - 1]?.userId ?? null;
  }
}
