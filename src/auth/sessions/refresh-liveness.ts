// Whether a refresh token can still be used, in the order refresh() judges it: a known token, a
// live session, neither expired, an active user. Spent tokens are judged by the caller: refresh()
// honours them within the grace window, introspection does not.
import type { RefreshToken, Session, User } from '../../store/index.ts';
import type { Uses } from '../services.ts';

export type RefreshTokenState =
  | { live: false; why: 'unknown' | 'session_ended' | 'expired' | 'user_inactive' }
  | { live: true; row: RefreshToken; hash: string; session: Session; user: User };

export async function refreshTokenState(
  s: Uses<'clock' | 'refreshTokens' | 'store'>,
  token: string,
): Promise<RefreshTokenState> {
  if (!s.refreshTokens.looksValid(token)) return { live: false, why: 'unknown' };
  // By the current key first (refresh-lookup.ts); the token, its session and user in one read.
  let found: { hash: string; token: RefreshToken; session: Session; user: User } | undefined;
  for (const hash of s.refreshTokens.hashes(token)) {
    const chain = await s.store.refreshTokens.findWithSession(hash);
    if (chain) {
      found = { hash, ...chain };
      break;
    }
  }
  if (!found) return { live: false, why: 'unknown' };
  const { token: row, hash, session, user } = found;
  const now = s.clock();
  if (session.revokedAt !== null) return { live: false, why: 'session_ended' };
  if (row.expiresAt <= now || session.expiresAt <= now) return { live: false, why: 'expired' };
  if (!user.isActive) return { live: false, why: 'user_inactive' };
  return { live: true, row, hash, session, user };
}
