// The shapes of the writes that span tables (session-writes.ts): a sign-in that starts a session,
// a refresh token's rotation, and what each answers.
import type { NewAuditEntry } from './audit-log.ts';
import type { NewRefreshToken } from './refresh-tokens.ts';
import type { NewSession } from './sessions.ts';

export interface SessionStart {
  session: NewSession & { authTime: number };
  /** The user's row is held at this version, active: a change since it was read refuses. */
  securityVersion: number;
  refreshToken?: NewRefreshToken | undefined;
  /** An authorization code spent by this sign-in (unused and unexpired at `now`). */
  code?: { hash: string; now: number } | undefined;
  /** The sign-in's audit entry, appended last (it locks the chain head). */
  audit: NewAuditEntry;
}

export type SessionStartResult = 'started' | 'user_changed' | 'code_spent';

export interface Rotation {
  /** The token presented; spent here unless already spent. */
  hash: string;
  now: number;
  /** Its successor, in the same session, expiring with it. */
  successor: NewRefreshToken;
}

/**
 * rotated: the token was spent and its successor stored; spent: it had been spent already (reuse or
 * the grace window: the caller judges); session_ended: the session was ended since it was read.
 */
export type RotationResult = 'rotated' | 'spent' | 'session_ended';

export interface SessionWrites {
  start(start: SessionStart): Promise<SessionStartResult>;
  rotate(rotation: Rotation): Promise<RotationResult>;
}
