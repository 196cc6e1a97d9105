// What the cookie mode needs beyond the session rules in sessions.ts: which session a refresh token
// belongs to (its CSRF token is bound to that session) and ending the session of a replaced cookie.

import type { Uses } from '../services.ts';
import { findRefreshToken } from './refresh-lookup.ts';
import { endSessions } from './sessions.ts';

/** The session a refresh token belongs to, spent or not; undefined for unknown tokens. */
export async function sessionOfRefreshToken(
  s: Uses<'refreshTokens' | 'store'>,
  token: string,
): Promise<string | undefined> {
  return (await findRefreshToken(s, token))?.row.sessionId;
}

/** Ends the session a browser's old refresh cookie belonged to; unknown tokens are ignored. */
export async function endReplacedSession(
  s: Uses<'clock' | 'refreshTokens' | 'revocations' | 'store'>,
  token: string,
): Promise<void> {
  const row = (await findRefreshToken(s, token))?.row;
  if (!row) return;
  await endSessions(s, [row.sessionId], {
    type: 'session.end',
    actorId: null,
    subjectId: row.userId,
    details: { reason: 'replaced_by_login' },
  });
}
