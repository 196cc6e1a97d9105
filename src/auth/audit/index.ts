export { type AuditEvent, recordAudit, runWithRequestContext } from './audit.ts';
export { verifyAuditChain } from './verify.ts';
