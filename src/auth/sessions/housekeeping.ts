// Periodic cleanup: rows that can no longer affect any answer are deleted, so tables stay small.
import type { Store } from '../../store/index.ts';

const EVERY_MS = 10 * 60_000;

/** Expired sessions (with their refresh tokens, by cascade), deny-list entries, account tokens and
 *  mfa_tokens. */
export async function sweepExpired(store: Store, now: number): Promise<void> {
  await store.sessions.deleteExpired(now);
  await store.revocations.deleteExpired(now);
  // Spent or not, an expired reset/verification token or mfa_token can never be used again.
  await store.accountTokens.deleteExpired(now);
  await store.mfaChallenges.deleteExpired(now);
  await store.passkeyChallenges.deleteExpired(now);
  // Kept ten minutes past their 60 s, so a late replay still finds (and ends) what the code started.
  await store.authorizationCodes.deleteExpired(now - 10 * 60_000);
}

export function startHousekeeping(store: Store, clock: () => number): () => void {
  const timer = setInterval(() => {
    sweepExpired(store, clock()).catch(() => {
      // Best effort: the next sweep tries again; nothing depends on it for correctness.
    });
  }, EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
