// Scopes: what a user may be granted, and what a request may ask for (RFC 6749 §3.3).
import { AppError } from '../../errors/index.ts';

export const ADMIN_SCOPE = 'admin';

/** The scopes a user holds now: their stored scopes that still exist, `admin` if and only if superuser. */
export function effectiveScopes(
  user: { scopes: readonly string[]; isSuperuser: boolean },
  known: readonly string[],
): string[] {
  // admin follows is_superuser alone, so demotion removes it everywhere at once.
  const granted = user.scopes.filter((s) => known.includes(s) && s !== ADMIN_SCOPE);
  if (user.isSuperuser) granted.push(ADMIN_SCOPE);
  return [...new Set(granted)];
}

export function parseScope(raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  return [...new Set(raw.split(' ').filter(Boolean))];
}

/** The requested scopes when all are allowed; all allowed when none requested; else invalid_scope. */
export function grantScope(requested: string[] | undefined, allowed: readonly string[]): string {
  if (requested === undefined) return allowed.join(' ');
  const missing = requested.filter((s) => !allowed.includes(s));
  if (missing.length > 0) {
    // The message does not echo the request: RFC 6749 §5.2 keeps error_description to plain ASCII.
    throw new AppError(
      'invalid_scope',
      'The requested scope exceeds what this user may be granted.',
    );
  }
  return requested.join(' ');
}

export function hasScope(scope: string, wanted: string): boolean {
  return scope.split(' ').includes(wanted);
}
