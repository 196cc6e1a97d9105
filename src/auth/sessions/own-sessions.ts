// A user's own sessions, as the account pages show and end them: the caller may only see and end
// sessions of their own account.
import { notFound } from '../../errors/index.ts';
import type { Session } from '../../store/index.ts';
import type { Uses } from '../services.ts';
import { endOtherSessions, endSessions, type SessionEndEvent } from './sessions.ts';

export type { Session };

/** The audit entry of sessions the user ends. */
function ended(userId: string, reason: string): SessionEndEvent {
  return { type: 'session.end', actorId: userId, subjectId: userId, details: { reason } };
}

/** The user's sessions that are neither ended nor expired. */
export async function listOwnSessions(
  s: Uses<'clock' | 'store'>,
  userId: string,
): Promise<Session[]> {
  return s.store.sessions.listActive(userId, s.clock());
}

/** Logout: ends the session the caller's token belongs to. */
export async function endCurrentSession(
  s: Uses<'clock' | 'revocations' | 'store'>,
  userId: string,
  sessionId: string,
): Promise<void> {
  await endSessions(s, [sessionId], ended(userId, 'logout'));
}

/** Ends one of the user's own live sessions; any other id is not found. */
export async function endOwnSession(
  s: Uses<'clock' | 'revocations' | 'store'>,
  userId: string,
  sessionId: string,
): Promise<void> {
  const session = await s.store.sessions.findById(sessionId);
  // Another user's session is answered exactly like a missing one, so that ids cannot be probed.
  if (!session || session.userId !== userId || session.revokedAt !== null)
    throw notFound('Session');
  await endSessions(s, [session.id], ended(userId, 'user'));
}

/** Ends every session of the user but the one they are calling from. */
export async function endOwnOtherSessions(
  s: Uses<'clock' | 'revocations' | 'store'>,
  userId: string,
  keepSessionId: string,
): Promise<void> {
  await endOtherSessions(s, userId, keepSessionId, ended(userId, 'others'));
}
