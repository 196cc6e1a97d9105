// GET/POST /userinfo (OIDC Core §5.3): the claims an access token's OpenID scopes release.
import { AuthenticationError, PermissionError } from '../../errors/index.ts';
import type { Uses } from '../services.ts';
import { userClaims } from './claims.ts';

export async function userInfo(
  s: Uses<'accessTokens' | 'store'>,
  accessToken: string,
): Promise<Record<string, unknown>> {
  const claims = await s.accessTokens.verify(accessToken);
  const scopes = claims.scope.split(' ');
  if (!scopes.includes('openid')) {
    throw new PermissionError('This access token was not granted the openid scope.', 'openid');
  }
  const user = await s.store.users.findById(claims.sub);
  // Verified a moment ago, gone now: the token speaks for no one.
  if (!user?.isActive)
    throw new AuthenticationError('The access token is not of a live user.', true);
  return userClaims(user, scopes);
}
