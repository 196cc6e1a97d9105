// Reading the audit log back: newest first, filtered.
import type { AuditEntry, AuditQuery } from '../../store/index.ts';
import type { Services } from '../services.ts';

export type { AuditEntry, AuditQuery };

export async function listAudit(s: Services, query: AuditQuery): Promise<AuditEntry[]> {
  return s.store.audit.list(query);
}
