// Sessions: the start of one, refresh-token rotation with reuse detection and the grace window,
// logout, ending sessions and RFC 7009 revocation.
import { uuidv7 } from '../../crypto/random.ts';
import { AppError } from '../../errors/index.ts';
import type { Revocation, SessionStart, Store, User } from '../../store/index.ts';
import type { AccessClaims } from '../../tokens/access-token.ts';
import { type AuditEvent, auditEntry, noteAudit, recordAudit } from '../audit/index.ts';
import { effectiveScopes, grantScope, parseScope } from '../identity/index.ts';
import type { Uses } from '../services.ts';
import { type RefreshTokenState, refreshTokenState } from './refresh-liveness.ts';
import { findRefreshToken } from './refresh-lookup.ts';

export const CLIENT_SESSION_PREFIX = 'client:';

/** The sid of a client's client_credentials tokens: one per client, denied when it is deleted. */
export function clientSessionId(clientId: string): string {
  return `${CLIENT_SESSION_PREFIX}${clientId}`;
}

/** The OpenID Connect scopes: requested by apps, granted by consent, never rights of a user. */
export const OIDC_SCOPES: readonly string[] = ['openid', 'profile', 'email', 'offline_access'];

/** Who presents a refresh token at /token, and whether a session of `sessionClientId` is theirs. */
export interface RefreshingClient {
  mayRefresh(sessionClientId: string): boolean | Promise<boolean>;
}

export interface ClientInfo {
  clientId: string;
  userAgent: string | null;
  ip: string | null;
}

export interface TokenPair {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

export interface LoginResult {
  user: User;
  tokens: TokenPair;
  sessionId: string;
  /** When the user proved who they are (ms): the ID token's auth_time. */
  authTime: number;
}

export interface SessionOptions {
  /** The sign-in this session continues (an authorization code's); default: now. */
  authTime?: number;
  /**
   * False: no refresh token (an app granted neither offline_access nor first-party standing); the
   * session then lives as long as its access token and `tokens.refresh_token` is empty.
   */
  refreshToken?: boolean;
  /**
   * Runs first inside the session's transaction (an authorization code is spent there, so a code
   * and the session it starts commit together); throwing rolls the sign-in back.
   */
  before?: (tx: Store, sessionId: string) => Promise<void>;
  /**
   * An authorization code this sign-in spends, in the session's own write: of two exchanges at
   * once exactly one starts a session, and the other gets CodeSpentError.
   */
  code?: { hash: string; now: number };
  /** The audit entry of the sign-in (default login.success), with details added to its own. */
  audit?: { type: AuditEvent['type']; details: Record<string, unknown> };
}

/** The code of SessionOptions.code had been spent: nothing was written. */
export class CodeSpentError extends Error {}

// A session without a refresh token outlives its one access token by the verifier's leeway only.
const ACCESS_ONLY_MARGIN_MS = 60_000;

// A dead refresh token: 400 invalid_grant on the OAuth endpoint, a failed authentication (401)
// elsewhere; the catalogue says which.
const badRefresh = (why: string): AppError => new AppError('session_ended', why);
const changedDuringSignIn = (): AppError =>
  new AppError('invalid_grant', 'The account changed during the sign-in: sign in again.');
const sessionEnded = (): AppError => badRefresh('The session has ended.');
const REFUSALS: Record<Exclude<RefreshTokenState, { live: true }>['why'], string> = {
  unknown: 'The refresh token is invalid.',
  session_ended: 'The session has ended.',
  expired: 'The refresh token has expired.',
  user_inactive: 'The account is disabled or gone.',
};

export async function startSession(
  s: Uses<
    'accessTokens' | 'clock' | 'refreshTokens' | 'store',
    'accessTokenTtlSeconds' | 'refreshTokenTtlSeconds'
  >,
  user: User,
  scope: string,
  client: ClientInfo,
  options: SessionOptions = {},
): Promise<LoginResult> {
  const now = s.clock();
  const sessionId = uuidv7(now);
  const withRefresh = options.refreshToken ?? true;
  const refreshToken = withRefresh ? s.refreshTokens.create() : '';
  const authTime = options.authTime ?? now;
  const expiresAt = withRefresh
    ? now + s.config.refreshTokenTtlSeconds * 1000
    : now + s.config.accessTokenTtlSeconds * 1000 + ACCESS_ONLY_MARGIN_MS;
  const auditType = options.audit?.type ?? 'login.success';
  const start: SessionStart = {
    session: {
      id: sessionId,
      userId: user.id,
      clientId: client.clientId,
      scope,
      createdAt: now,
      lastUsedAt: now,
      expiresAt,
      userAgent: client.userAgent,
      ip: client.ip,
      authTime,
    },
    // The user was read before the slow password check: a password change, reset, deactivation or
    // lost right that landed since then refuses the sign-in. Holding the row orders this write
    // against such a change, which then sees (and ends) the session made here.
    securityVersion: user.securityVersion,
    refreshToken: withRefresh
      ? {
          hash: s.refreshTokens.hash(refreshToken),
          sessionId,
          userId: user.id,
          createdAt: now,
          expiresAt,
        }
      : undefined,
    code: options.code,
    audit: auditEntry({
      type: auditType,
      actorId: user.id,
      subjectId: user.id,
      ip: client.ip,
      userAgent: client.userAgent,
      at: now,
      details: {
        session_id: sessionId,
        client_id: client.clientId,
        scope,
        ...options.audit?.details,
      },
    }),
  };
  const { before } = options;
  const started = before
    ? await s.store.transaction(async (tx) => {
        // The user's row before anything the hook locks: the order every change of the user takes.
        if (!(await tx.users.holdSecurityVersion(user.id, user.securityVersion))) {
          return 'user_changed' as const;
        }
        await before(tx, sessionId);
        return tx.sessionWrites.start(start);
      })
    : await s.store.sessionWrites.start(start);
  if (started === 'user_changed') throw changedDuringSignIn();
  if (started === 'code_spent') throw new CodeSpentError();
  noteAudit(auditType);
  const tokens = await pairFor(s, user, sessionId, client.clientId, scope, refreshToken);
  return { user, tokens, sessionId, authTime };
}

async function pairFor(
  s: Uses<'accessTokens', 'accessTokenTtlSeconds'>,
  user: User,
  sessionId: string,
  clientId: string,
  scope: string,
  refreshToken: string,
): Promise<TokenPair> {
  const { token } = await s.accessTokens.issue({
    userId: user.id,
    username: user.username,
    sessionId,
    clientId,
    scope,
  });
  return {
    access_token: token,
    token_type: 'bearer',
    expires_in: s.config.accessTokenTtlSeconds,
    refresh_token: refreshToken,
    scope,
  };
}

/** Rotation: each refresh token works once. A reuse outside the grace window ends the session. */
export async function refresh(
  s: Uses<
    'accessTokens' | 'clock' | 'refreshTokens' | 'revocations' | 'store',
    'accessTokenTtlSeconds' | 'refreshReuseGraceSeconds' | 'refreshTokenTtlSeconds' | 'scopes'
  >,
  token: string,
  requestedScope: string | undefined,
  client?: RefreshingClient,
): Promise<LoginResult & { clientId: string }> {
  const state = await refreshTokenState(s, token);
  if (!state.live) throw badRefresh(REFUSALS[state.why]);
  const { hash, session, user } = state;
  const now = s.clock();
  // Bound to its client: another app presenting a leaked token gets nothing (and spends nothing).
  if (client && !(await client.mayRefresh(session.clientId))) {
    throw new AppError('invalid_grant', 'The refresh token was issued to another client.');
  }

  // Checked before rotating, so a refused scope does not spend the token. The OpenID Connect
  // scopes are not rights of the user: they stay as long as the session had them.
  const allowed = [...effectiveScopes(user, s.config.scopes), ...OIDC_SCOPES].filter((x) =>
    session.scope.split(' ').includes(x),
  );
  const scope = grantScope(parseScope(requestedScope), allowed);
  const successor = s.refreshTokens.successor(token);
  const expiresAt = now + s.config.refreshTokenTtlSeconds * 1000;
  const successorHash = s.refreshTokens.hash(successor);
  const rotated = await s.store.sessionWrites.rotate({
    hash,
    now,
    successor: {
      hash: successorHash,
      sessionId: session.id,
      userId: user.id,
      createdAt: now,
      expiresAt,
    },
  });
  if (rotated === 'session_ended') throw sessionEnded();
  if (rotated === 'spent') {
    const used = await s.store.refreshTokens.findByHash(hash);
    const usedAt = used?.usedAt ?? now;
    const next = await s.store.refreshTokens.findByHash(successorHash);
    // Two tabs refreshing at once get the same successor; a later reuse, or one after the
    // successor itself was used (the racing tab did get its answer), means the token leaked.
    if (now - usedAt > s.config.refreshReuseGraceSeconds * 1000 || next?.usedAt != null) {
      await endSessions(s, [session.id], {
        type: 'refresh.reuse',
        actorId: null,
        subjectId: user.id,
        details: { grace_seconds: s.config.refreshReuseGraceSeconds },
      });
      throw badRefresh('The refresh token was already used; the session has been ended.');
    }
  }
  const tokens = await pairFor(s, user, session.id, session.clientId, scope, successor);
  return {
    user,
    tokens,
    sessionId: session.id,
    authTime: session.authTime,
    clientId: session.clientId,
  };
}

/** What the audit log says about ended sessions; the session ids are added to its details. */
export type SessionEndEvent = Omit<AuditEvent, 'at'>;

/**
 * Ends sessions inside the caller's transaction; returns the revocations to apply (with
 * s.revocations.apply) once it has committed.
 */
export async function endSessionsIn(
  s: Uses<'revocations'>,
  tx: Store,
  sessionIds: readonly string[],
  now: number,
): Promise<Revocation[]> {
  // Only sessions this call ended get an entry: an unknown id (a token signed for a session that
  // never existed) or one already ended writes nothing, so /revoke cannot be used to fill the table.
  const ended: string[] = [];
  for (const id of sessionIds) if (await tx.sessions.revoke(id, now)) ended.push(id);
  const entries = s.revocations.sessionEntries(ended);
  for (const entry of entries) await tx.revocations.insert(entry);
  return entries;
}

/** Ends sessions: their refresh tokens stop working and their access tokens are denied at once. */
export async function endSessions(
  s: Uses<'clock' | 'revocations' | 'store'>,
  sessionIds: readonly string[],
  event: SessionEndEvent = { type: 'session.end', actorId: null },
): Promise<void> {
  if (sessionIds.length === 0) return;
  const now = s.clock();
  const entries = await s.store.transaction(async (tx) => {
    const made = await endSessionsIn(s, tx, sessionIds, now);
    // Nothing ended, nothing to record.
    if (made.length === 0) return made;
    await recordAudit(tx, {
      ...event,
      at: now,
      details: { ...event.details, session_ids: made.map((entry) => entry.subject) },
    });
    return made;
  });
  s.revocations.apply(entries);
}

export async function endOtherSessions(
  s: Uses<'clock' | 'revocations' | 'store'>,
  userId: string,
  keepSessionId?: string,
  event: SessionEndEvent = { type: 'session.end', actorId: null, details: { reason: 'others' } },
): Promise<void> {
  const active = await s.store.sessions.listActive(userId, s.clock());
  await endSessions(
    s,
    active.filter((x) => x.id !== keepSessionId).map((x) => x.id),
    { subjectId: userId, ...event },
  );
}

/** RFC 7009: a refresh or access token ends its session; anything else is quietly ignored. */
export async function revokeToken(
  s: Uses<'accessTokens' | 'clock' | 'refreshTokens' | 'revocations' | 'store'>,
  token: string,
): Promise<void> {
  if (s.refreshTokens.looksValid(token)) {
    const found = await findRefreshToken(s, token);
    if (found) await endSessions(s, [found.row.sessionId], revoked(found.row.userId));
    return;
  }
  let claims: AccessClaims;
  try {
    claims = await s.accessTokens.verifySignature(token);
  } catch {
    return;
  }
  await endSessions(s, [claims.sid], revoked(claims.sub));
}

function revoked(userId: string): SessionEndEvent {
  // Whoever holds a token may revoke it (RFC 7009): the holder acts for the token's user.
  return { type: 'session.end', actorId: userId, subjectId: userId, details: { reason: 'revoke' } };
}
