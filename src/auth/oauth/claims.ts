// The claims about a user that OpenID Connect scopes release, in ID tokens and at /userinfo, and the
// ID token itself (OIDC Core §2, §3.1.3.6, §5.4).
import type { User } from '../../store/index.ts';
import { atHash, signIdToken } from '../../tokens/id-token.ts';
import type { Client } from '../clients/index.ts';
import type { Uses } from '../services.ts';

/** The user claims the scopes release (sub always). */
export function userClaims(user: User, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = { sub: user.id };
  if (scopes.includes('email')) {
    claims.email = user.email;
    claims.email_verified = user.isVerified;
  }
  if (scopes.includes('profile')) {
    claims.preferred_username = user.username;
    // OIDC Core §5.1: seconds since the epoch.
    claims.updated_at = Math.floor(user.updatedAt / 1000);
  }
  return claims;
}

export interface IdTokenInput {
  user: User;
  client: Client;
  scopes: readonly string[];
  sessionId: string;
  /** ms since the epoch. */
  authTime: number;
  nonce?: string | null | undefined;
  accessToken: string;
}

export function idTokenAlg(client: Client): 'RS256' | 'ES256' {
  return client.idTokenSignedResponseAlg === 'ES256' ? 'ES256' : 'RS256';
}

export async function issueIdToken(
  s: Uses<'clock' | 'keys', 'accessTokenTtlSeconds' | 'issuer'>,
  input: IdTokenInput,
): Promise<string> {
  const alg = idTokenAlg(input.client);
  const iat = Math.floor(s.clock() / 1000);
  return signIdToken(s.keys, alg, {
    iss: s.config.issuer,
    ...userClaims(input.user, input.scopes),
    aud: input.client.clientId,
    exp: iat + s.config.accessTokenTtlSeconds,
    iat,
    auth_time: Math.floor(input.authTime / 1000),
    ...(input.nonce ? { nonce: input.nonce } : {}),
    sid: input.sessionId,
    at_hash: atHash(input.accessToken, alg),
  });
}
