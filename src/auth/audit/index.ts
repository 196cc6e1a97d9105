export {
  type AuditEvent,
  auditEntry,
  noteAudit,
  recordAudit,
  runWithRequestContext,
} from './audit.ts';
export { type AuditEntry, type AuditQuery, listAudit } from './list.ts';
export { verifyAuditChain } from './verify.ts';
