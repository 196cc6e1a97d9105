// Administrators' actions on other users' sessions.
import { notFound } from '../../errors/index.ts';
import type { Uses } from '../services.ts';
import { endOtherSessions } from './sessions.ts';

/** Ends every session of a user: refresh tokens stop working, access tokens are denied at once. */
export async function endAllSessionsOf(
  s: Uses<'clock' | 'revocations' | 'store'>,
  actorId: string,
  userId: string,
): Promise<void> {
  const user = await s.store.users.findById(userId);
  if (!user) throw notFound('User');
  // Audited in the transaction that ends them (session.end, by the administrator).
  await endOtherSessions(s, userId, undefined, {
    type: 'session.end',
    actorId,
    subjectId: userId,
    details: { reason: 'admin' },
  });
}
