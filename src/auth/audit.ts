// The audit trail: one call per security-relevant event, made inside the transaction of the change it
// records (pass the transaction's store). Placeholder until the audit log lands (issue 3): the
// signature is the contract the rules are written against.
import type { Store } from '../store/index.ts';

export type AuditType =
  | 'login.success'
  | 'login.failure'
  | 'lockout'
  | 'refresh.reuse'
  | 'password.change'
  | 'password.reset'
  | 'session.end'
  | 'user.register'
  | 'user.update'
  | 'user.delete'
  | 'admin.user_update'
  | 'admin.user_delete'
  | 'email.verify'
  | 'totp.enable'
  | 'totp.disable'
  | 'totp.recovery_used';

export interface AuditEvent {
  type: AuditType;
  /** Who acted (null for anonymous or failed logins). */
  actorId: string | null;
  /** Whom it concerns, when known. */
  subjectId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  /** Never a secret: no passwords, tokens or codes. */
  details?: Record<string, unknown>;
}

export async function recordAudit(_store: Store, _event: AuditEvent): Promise<void> {}
