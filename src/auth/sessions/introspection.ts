// What a token stands for, for RFC 7662 introspection: whether it is live, and whose it is. The
// liveness rules are those of refresh (refreshTokenState) and of the access-token verifier.
import { isBackendUnavailable } from '../../errors/index.ts';
import type { AccessClaims } from '../../tokens/access-token.ts';
import type { Uses } from '../services.ts';
import { refreshTokenState } from './refresh-liveness.ts';
import { clientSessionId } from './sessions.ts';

export type { AccessClaims };

export type TokenStatus =
  | { active: false }
  | {
      active: true;
      type: 'refresh_token';
      userId: string;
      username: string;
      scope: string;
      sessionId: string;
      clientId: string;
      issuedAt: number;
      /** The earlier of the token's and its session's expiry (ms). */
      expiresAt: number;
    }
  | { active: true; type: 'access_token'; claims: AccessClaims; username: string };

const inactive = { active: false } as const;

export async function inspectToken(
  s: Uses<'accessTokens' | 'clock' | 'refreshTokens' | 'store'>,
  token: string,
): Promise<TokenStatus> {
  if (s.refreshTokens.looksValid(token)) {
    const state = await refreshTokenState(s, token);
    // A spent token reads as inactive even within the reuse grace window: its successor is current.
    if (!state.live || state.row.usedAt !== null) return inactive;
    const { row, session, user } = state;
    return {
      active: true,
      type: 'refresh_token',
      userId: user.id,
      username: user.username,
      scope: session.scope,
      sessionId: session.id,
      clientId: session.clientId,
      issuedAt: row.createdAt,
      expiresAt: Math.min(row.expiresAt, session.expiresAt),
    };
  }
  try {
    const claims = await s.accessTokens.verify(token);
    // A client_credentials token: its subject is the client itself, live while it is registered
    // (the verifier has checked that); it has no user name.
    if (claims.sub === claims.client_id && claims.sid === clientSessionId(claims.client_id)) {
      return { active: true, type: 'access_token', claims, username: '' };
    }
    const user = await s.store.users.findById(claims.sub);
    if (!user?.isActive) return inactive;
    return { active: true, type: 'access_token', claims, username: user.username };
  } catch (error) {
    // "Inactive" is a verdict on the token: a database that did not answer is no verdict, so the
    // caller gets a 503 to retry rather than a resource server dropping a good token.
    if (isBackendUnavailable(error)) throw error;
    return inactive;
  }
}
