// Whether a refresh token can still be used, in the order refresh() judges it: a known token, a
// live session, neither expired, an active user. Spent tokens are judged by the caller: refresh()
// honours them within the grace window, introspection does not.
import type { RefreshToken, Session, User } from '../../store/index.ts';
import type { Uses } from '../services.ts';
import { findRefreshToken } from './refresh-lookup.ts';

export type RefreshTokenState =
  | { live: false; why: 'unknown' | 'session_ended' | 'expired' | 'user_inactive' }
  | { live: true; row: RefreshToken; hash: string; session: Session; user: User };

export async function refreshTokenState(
  s: Uses<'clock' | 'refreshTokens' | 'store'>,
  token: string,
): Promise<RefreshTokenState> {
  const found = await findRefreshToken(s, token);
  if (!found) return { live: false, why: 'unknown' };
  const { row, hash } = found;
  const now = s.clock();
  const session = await s.store.sessions.findById(row.sessionId);
  if (!session || session.revokedAt !== null) return { live: false, why: 'session_ended' };
  if (row.expiresAt <= now || session.expiresAt <= now) return { live: false, why: 'expired' };
  const user = await s.store.users.findById(row.userId);
  if (!user?.isActive) return { live: false, why: 'user_inactive' };
  return { live: true, row, hash, session, user };
}
