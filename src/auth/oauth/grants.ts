// The grants of /token that the provider adds: authorization_code (RFC 6749 §4.1.3 with PKCE),
// client_credentials (§4.4), and the refresh grant bound to its client. Their tokens are the §3
// ones: the same signing keys, sessions, rotation, reuse detection and deny-list.
import { createHash } from 'node:crypto';
import { AppError } from '../../errors/index.ts';
import type { AuthorizationCode, User } from '../../store/index.ts';
import { recordAudit } from '../audit/index.ts';
import { type Client, isConfidential } from '../clients/index.ts';
import { effectiveScopes } from '../identity/index.ts';
import type { Uses } from '../services.ts';
import {
  type ClientInfo,
  CodeSpentError,
  clientSessionId,
  endSessions,
  type LoginResult,
  refresh,
  startSession,
} from '../sessions/index.ts';
import { hashCode } from './authorize.ts';
import { issueIdToken } from './claims.ts';
import type { TokenClient } from './client-auth.ts';
import { apiScopes } from './request.ts';

export interface OAuthTokens {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

type GrantUses = Uses<
  'accessTokens' | 'clock' | 'keys' | 'refreshTokens' | 'revocations' | 'store',
  | 'accessTokenTtlSeconds'
  | 'issuer'
  | 'refreshReuseGraceSeconds'
  | 'refreshTokenTtlSeconds'
  | 'scopes'
  | 'defaultClientId'
>;

// RFC 7636 §4.1: 43 to 128 unreserved characters.
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const badGrant = (why: string): AppError => new AppError('invalid_grant', why);

function requireGrant(client: Client, grant: string): void {
  if (!client.grantTypes.includes(grant)) {
    throw new AppError('unauthorized_client', `This client may not use the ${grant} grant.`);
  }
}

export function mustBeRegistered(tokenClient: TokenClient): Client {
  if (!tokenClient.registered) {
    throw new AppError('invalid_client', 'This grant needs a registered client.');
  }
  return tokenClient.client;
}

/** What a code exchange reads first: the code and its user. */
export interface CodeRead {
  code: AuthorizationCode;
  user: User;
}

// Longer is no code of ours: not looked up.
const MAX_CODE_LENGTH = 256;

/**
 * A public client presenting only its client_id: its row is read with the code's, one read for
 * both. Undefined when that read does not settle who the client is (no such code, the code of
 * another client, a confidential client): the caller then authenticates the client as for any
 * grant, and the exchange reads the code again.
 */
export async function readPublicExchange(
  s: Uses<'store'>,
  clientId: string,
  code: string,
): Promise<{ client: Client; read: CodeRead } | undefined> {
  if (code.length > MAX_CODE_LENGTH) return undefined;
  const found = await s.store.authorizationCodes.findWithUserAndClient(hashCode(code));
  // The same client row client authentication reads, and the same refusal of a confidential one.
  if (!found || found.client.clientId !== clientId || isConfidential(found.client))
    return undefined;
  return { client: found.client, read: { code: found.code, user: found.user } };
}

export async function exchangeCode(
  s: GrantUses,
  client: Client,
  input: { code: string; redirectUri: string | undefined; codeVerifier: string | undefined },
  info: ClientInfo,
  /** The code and user readPublicExchange read already. */
  read?: CodeRead,
): Promise<OAuthTokens> {
  requireGrant(client, 'authorization_code');
  const hash = hashCode(input.code);
  // The code and its user in one read.
  const found =
    read ??
    (input.code.length <= MAX_CODE_LENGTH
      ? await s.store.authorizationCodes.findWithUser(hash)
      : undefined);
  const code = found?.code;
  // Every failure is invalid_grant, and says no more: which check failed helps only an attacker.
  if (!code || code.clientId !== client.clientId) throw badGrant('The code is invalid.');
  if (code.usedAt !== null) return replayed(s, hash);
  if (code.expiresAt <= s.clock()) throw badGrant('The code has expired.');
  // Sent to /authorize → must be sent here, identical; not sent there → must not be sent here.
  if ((input.redirectUri ?? null) !== code.redirectUri) {
    throw badGrant('redirect_uri differs from the authorization request.');
  }
  if (input.codeVerifier === undefined || !VERIFIER.test(input.codeVerifier)) {
    throw badGrant('code_verifier is missing or malformed.');
  }
  const challenge = createHash('sha256').update(input.codeVerifier).digest('base64url');
  if (challenge !== code.codeChallenge) throw badGrant('code_verifier does not match.');

  const user = found?.user;
  // A password change, deactivation or lost right since the sign-in voids the code.
  if (!user?.isActive || user.securityVersion !== code.securityVersion) {
    throw badGrant('The account changed since the sign-in: sign in again.');
  }
  const scopes = code.scope.split(' ').filter(Boolean);
  const rights = effectiveScopes(user, s.config.scopes);
  if (apiScopes(scopes).some((x) => !rights.includes(x))) {
    throw badGrant('The account no longer holds the requested scope.');
  }
  // Refresh tokens for apps granted offline_access, and for the operator's own apps.
  const withRefresh =
    client.grantTypes.includes('refresh_token') &&
    (scopes.includes('offline_access') || client.firstParty);
  let result: LoginResult;
  try {
    result = await startSession(
      s,
      user,
      scopes.join(' '),
      { ...info, clientId: client.clientId },
      {
        authTime: code.authTime,
        refreshToken: withRefresh,
        // Spent in the session's own write: of two exchanges at once exactly one commits, and the
        // loser then finds the session the winner started (and ends it).
        code: { hash, now: s.clock() },
        audit: { type: 'oauth.code_exchange', details: { grant: 'authorization_code' } },
      },
    );
  } catch (error) {
    if (error instanceof CodeSpentError) return replayed(s, hash);
    throw error;
  }
  const tokens: OAuthTokens = {
    access_token: result.tokens.access_token,
    token_type: 'bearer',
    expires_in: result.tokens.expires_in,
    scope: result.tokens.scope,
  };
  if (withRefresh) tokens.refresh_token = result.tokens.refresh_token;
  if (scopes.includes('openid')) {
    tokens.id_token = await issueIdToken(s, {
      user,
      client,
      scopes,
      sessionId: result.sessionId,
      authTime: code.authTime,
      nonce: code.nonce,
      accessToken: tokens.access_token,
    });
  }
  return tokens;
}

/** A code used twice: whoever holds it is not only the client; end what the first use started. */
async function replayed(s: GrantUses, hash: string): Promise<never> {
  const code = await s.store.authorizationCodes.findByHash(hash);
  if (code?.sessionId) {
    await endSessions(s, [code.sessionId], {
      type: 'oauth.code_replay',
      actorId: null,
      subjectId: code.userId,
      details: { client_id: code.clientId },
    });
  }
  throw badGrant('The code was already used; the tokens issued for it are revoked.');
}

/** client_credentials: a confidential client acting for itself; no user, no session, no refresh. */
export async function clientCredentials(
  s: Uses<'accessTokens' | 'clock' | 'store', 'accessTokenTtlSeconds'>,
  client: Client,
  requested: string | undefined,
): Promise<OAuthTokens> {
  requireGrant(client, 'client_credentials');
  // A public client has no secret: anyone could act as it.
  if (client.tokenEndpointAuthMethod === 'none') {
    throw new AppError(
      'unauthorized_client',
      'Only confidential clients may use client_credentials.',
    );
  }
  const own = apiScopes(client.scope);
  const scopes =
    requested === undefined || requested.trim() === ''
      ? own
      : [...new Set(requested.split(' ').filter(Boolean))];
  // OpenID Connect scopes are about a user; a client acting for itself has none to release.
  if (scopes.some((x) => !own.includes(x))) {
    throw new AppError(
      'invalid_scope',
      'The requested scope exceeds what this client may be granted.',
    );
  }
  const scope = scopes.join(' ');
  const { token } = await s.accessTokens.issue({
    userId: client.clientId,
    username: '',
    sessionId: clientSessionId(client.clientId),
    clientId: client.clientId,
    scope,
  });
  const now = s.clock();
  await s.store.transaction(async (tx) => {
    await recordAudit(tx, {
      type: 'oauth.client_credentials',
      actorId: null,
      subjectId: client.clientId,
      at: now,
      details: { client_id: client.clientId, scope },
    });
  });
  return {
    access_token: token,
    token_type: 'bearer',
    expires_in: s.config.accessTokenTtlSeconds,
    scope,
  };
}

/** The refresh grant at /token: rotation as in §3, bound to the client the session was made for. */
export async function refreshGrant(
  s: GrantUses,
  tokenClient: TokenClient,
  token: string,
  requestedScope: string | undefined,
): Promise<OAuthTokens> {
  const result = await refresh(s, token, requestedScope, {
    async mayRefresh(sessionClientId) {
      if (tokenClient.registered) return tokenClient.clientId === sessionClientId;
      // The guides' clients (no client_id, or any unregistered one) refresh the sessions of
      // unregistered clients only; a registered app's session needs that app.
      if (sessionClientId === s.config.defaultClientId) return true;
      return (await s.store.clients.findById(sessionClientId)) === undefined;
    },
  });
  const tokens: OAuthTokens = { ...result.tokens };
  const scopes = tokens.scope.split(' ');
  if (tokenClient.registered && scopes.includes('openid')) {
    // OIDC Core §12.2: a new ID token for the same sign-in (same auth_time, no nonce).
    tokens.id_token = await issueIdToken(s, {
      user: result.user,
      client: tokenClient.client,
      scopes,
      sessionId: result.sessionId,
      authTime: result.authTime,
      accessToken: tokens.access_token,
    });
  }
  return tokens;
}
