export { normalizeLogin, parseEmail, parseUsername } from './names.ts';
export { ADMIN_SCOPE, effectiveScopes, grantScope, hasScope, parseScope } from './scopes.ts';
