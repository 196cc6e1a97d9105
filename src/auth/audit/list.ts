// Reading the audit log back: newest first, filtered.
import type { AuditEntry, AuditQuery } from '../../store/index.ts';
import type { Uses } from '../services.ts';

export type { AuditEntry, AuditQuery };

export async function listAudit(s: Uses<'store'>, query: AuditQuery): Promise<AuditEntry[]> {
  return s.store.audit.list(query);
}
