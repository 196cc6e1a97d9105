// What a token stands for, for RFC 7662 introspection: whether it is live, and whose it is. The
// liveness rules are those of refresh() and of the access-token verifier.
import type { AccessClaims } from '../../tokens/access-token.ts';
import type { Services } from '../services.ts';
import { findRefreshToken } from './refresh-lookup.ts';

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

export async function inspectToken(s: Services, token: string): Promise<TokenStatus> {
  if (s.refreshTokens.looksValid(token)) {
    const row = (await findRefreshToken(s, token))?.row;
    const session = row && (await s.store.sessions.findById(row.sessionId));
    const user = row && (await s.store.users.findById(row.userId));
    const now = s.clock();
    // A spent token reads as inactive even within the reuse grace window: only its successor is current.
    if (
      !row ||
      !session ||
      !user ||
      row.usedAt !== null ||
      session.revokedAt !== null ||
      !user.isActive
    )
      return inactive;
    if (row.expiresAt <= now || session.expiresAt <= now) return inactive;
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
    const user = await s.store.users.findById(claims.sub);
    if (!user?.isActive) return inactive;
    return { active: true, type: 'access_token', claims, username: user.username };
  } catch {
    return inactive;
  }
}
