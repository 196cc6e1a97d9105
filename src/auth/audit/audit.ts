// The audit trail: one call per security-relevant event, made inside the transaction of the change it
// records (pass the transaction's store), as its LAST statement: the append locks the chain head, and
// taking that lock last in every transaction means no two transactions can wait on each other.
import { AsyncLocalStorage } from 'node:async_hooks';
import { canonicalJson, type NewAuditEntry, type Store } from '../../store/index.ts';

export type AuditType =
  | 'login.success'
  | 'login.failure'
  | 'lockout'
  | 'refresh.reuse'
  | 'password.change'
  | 'password.reset'
  | 'session.end'
  | 'user.register'
  | 'user.import'
  | 'user.update'
  | 'user.delete'
  | 'admin.user_update'
  | 'admin.user_delete'
  | 'email.verify'
  | 'totp.enable'
  | 'totp.disable'
  | 'admin.totp_reset'
  | 'totp.recovery_used'
  | 'client.create'
  | 'client.update'
  | 'client.delete'
  | 'client.secret_rotate'
  | 'oauth.consent'
  | 'oauth.consent_revoke'
  | 'oauth.code_exchange'
  | 'oauth.code_replay'
  | 'oauth.client_credentials'
  | 'oauth.logout'
  | 'passkey.add'
  | 'passkey.rename'
  | 'passkey.remove'
  | 'passkey.login'
  | 'passkey.counter_regression'
  | 'identity.link'
  | 'identity.unlink';

export interface AuditEvent {
  type: AuditType;
  /** Who acted (null for anonymous or failed logins, and for the operator's CLI). */
  actorId: string | null;
  /** Whom it concerns, when known. */
  subjectId?: string | null;
  /** Defaults to the client address of the HTTP request being served, if any. */
  ip?: string | null;
  /** Defaults to the User-Agent of the HTTP request being served, if any. */
  userAgent?: string | null;
  /** Milliseconds since the epoch; defaults to now. Rules pass their injected clock. */
  at?: number;
  /** Never a secret: no passwords, tokens or codes (keys that look like one are dropped). */
  details?: Record<string, unknown>;
}

interface RequestContext {
  ip: string | null;
  userAgent: string | null;
  /** Told the type of each entry written while serving the request (the metrics count them). */
  onAudit?: (type: AuditType) => void;
}

const requestContext = new AsyncLocalStorage<RequestContext>();

/** Runs fn with the request's client address and agent, which recordAudit then fills in. */
export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return requestContext.run(context, fn);
}

// A detail named like a credential is dropped even if a caller passes one by mistake.
const SECRET_KEY = /pass(word)?|secret|token|otp|hash|recovery|cookie|authorization|^code$/i;
const MAX_TEXT = 320;

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > MAX_TEXT ? value.slice(0, MAX_TEXT) : value;
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!SECRET_KEY.test(key)) out[key] = scrub(v, depth + 1);
  }
  return out;
}

function clip(text: string | null | undefined, max: number): string | null {
  if (text === undefined || text === null) return null;
  return text.length > max ? text.slice(0, max) : text;
}

/** The stored form of an event: the request's address and agent filled in, details scrubbed. */
export function auditEntry(event: AuditEvent): NewAuditEntry {
  const context = requestContext.getStore();
  return {
    at: event.at ?? Date.now(),
    type: event.type,
    actorId: event.actorId,
    subjectId: event.subjectId ?? null,
    ip: clip(event.ip ?? context?.ip, 64),
    userAgent: clip(event.userAgent ?? context?.userAgent, 512),
    details: canonicalJson(scrub(event.details ?? {})),
  };
}

/** Tells the request's listener (the metrics) that an entry of this type was written. */
export function noteAudit(type: AuditType): void {
  requestContext.getStore()?.onAudit?.(type);
}

export async function recordAudit(store: Store, event: AuditEvent): Promise<void> {
  await store.audit.append(auditEntry(event));
  noteAudit(event.type);
}
