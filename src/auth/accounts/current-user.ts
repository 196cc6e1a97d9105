// Reading accounts on behalf of a caller: the caller's own account, another user's, the user list.
import { AuthenticationError, notFound, PermissionError } from '../../errors/index.ts';
import type { User } from '../../store/index.ts';
import { ADMIN_SCOPE, hasScope, normalizeLogin } from '../identity/index.ts';
import type { Uses } from '../services.ts';

export type { User };

/** The caller's own account, which must still exist and be active. */
export async function activeUser(s: Uses<'store'>, userId: string): Promise<User> {
  const user = await s.store.users.findById(userId);
  // The token may be valid while the account is gone or disabled since: it no longer authenticates.
  if (!user?.isActive) throw new AuthenticationError('The account is disabled or gone.', true);
  return user;
}

/** The user named `username` as the caller may see it: themself, or anyone for superusers. */
export async function userVisibleTo(
  s: Uses<'store'>,
  caller: { userId: string; scope: string },
  username: string,
): Promise<User> {
  const superuser = hasScope(caller.scope, ADMIN_SCOPE);
  const { normalized } = normalizeLogin(username);
  const user = normalized.includes('@')
    ? undefined
    : await s.store.users.findByUsernameNorm(normalized);
  if (user && user.id === caller.userId) return user;
  // 403 whether or not the user exists, so that names cannot be probed; only superusers see 404.
  if (!superuser) throw new PermissionError('You may only read your own account.');
  if (!user) throw notFound('User');
  return user;
}

/** A page of users by id, after `after`; `q` matches username or email, case-insensitively. */
export async function listUsers(
  s: Uses<'store'>,
  page: { limit: number; after?: string; q?: string },
): Promise<User[]> {
  const q = page.q?.normalize('NFKC').toLowerCase() || undefined;
  return s.store.users.list({ limit: page.limit, after: page.after, q });
}
