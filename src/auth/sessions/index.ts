export { endAllSessionsOf } from './admin.ts';
export { endReplacedSession, sessionOfRefreshToken } from './cookie-sessions.ts';
export { startHousekeeping, sweepExpired } from './housekeeping.ts';
export { type AccessClaims, inspectToken, type TokenStatus } from './introspection.ts';
export {
  endCurrentSession,
  endOwnOtherSessions,
  endOwnSession,
  listOwnSessions,
  type Session,
} from './own-sessions.ts';

export {
  CLIENT_SESSION_PREFIX,
  type ClientInfo,
  CodeSpentError,
  clientSessionId,
  endOtherSessions,
  endSessions,
  endSessionsIn,
  type LoginResult,
  OIDC_SCOPES,
  type RefreshingClient,
  refresh,
  revokeToken,
  type SessionEndEvent,
  type SessionOptions,
  startSession,
} from './sessions.ts';
