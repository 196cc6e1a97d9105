// The password policy as advice, for the registration page's live explanation: the same rule that
// registration and password changes enforce (enforcePasswordPolicy), without throwing.
import {
  checkPassword,
  describeProblem,
  type PasswordProblem,
} from '../../crypto/password-policy.ts';
import type { Uses } from '../services.ts';

export interface PasswordAdvice {
  acceptable: boolean;
  reasons: PasswordProblem[];
  messages: string[];
  min_length: number;
  max_length: number;
}

export function passwordAdvice(
  s: Uses<never, 'passwordMaxLength' | 'passwordMinLength'>,
  password: string,
  who: { username?: string | undefined; email?: string | undefined },
): PasswordAdvice {
  const options = {
    minLength: s.config.passwordMinLength,
    maxLength: s.config.passwordMaxLength,
    username: who.username,
    email: who.email,
  };
  const reasons = checkPassword(password, options);
  return {
    acceptable: reasons.length === 0,
    reasons,
    messages: reasons.map((r) => describeProblem(r, options)),
    min_length: options.minLength,
    max_length: options.maxLength,
  };
}
