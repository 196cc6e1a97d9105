// Accounts: registration, profile and password changes, deletion, and the administrator's changes.
import { checkPassword, describeProblem } from '../crypto/password-policy.ts';
import { uuidv7 } from '../crypto/random.ts';
import { AppError, type FieldError, notFound, ValidationError } from '../errors/index.ts';
import { ConflictError, type User, type UserPatch } from '../store/index.ts';
import { parseEmail, parseUsername } from './identity.ts';
import {
  accountLockoutKeys,
  checkLockout,
  recordFailure,
  resetLockout,
  withAttemptSlot,
} from './lockout.ts';
import { ADMIN_SCOPE } from './scopes.ts';
import type { Services } from './services.ts';
import { endOtherSessions } from './sessions.ts';

export interface NewAccount {
  email: string;
  username: string;
  password: string;
  isSuperuser?: boolean;
  /** The address is vouched for (an operator's own entry): no verification mail needed. */
  isVerified?: boolean;
  /** An existing hash (imports): kept as is, so the policy cannot be checked. */
  passwordHash?: string;
}

function identityFields(input: {
  email?: string | undefined;
  username?: string | undefined;
}): UserPatch {
  const errors: FieldError[] = [];
  const patch: UserPatch = {};
  if (input.email !== undefined) {
    const email = parseEmail(input.email);
    if (email.ok) Object.assign(patch, { email: email.value, emailNorm: email.normalized });
    else errors.push({ field: 'email', message: email.reason });
  }
  if (input.username !== undefined) {
    const username = parseUsername(input.username);
    if (username.ok)
      Object.assign(patch, { username: username.value, usernameNorm: username.normalized });
    else errors.push({ field: 'username', message: username.reason });
  }
  if (errors.length > 0) throw new ValidationError('Some fields are invalid.', errors);
  return patch;
}

export function enforcePasswordPolicy(
  s: Services,
  password: string,
  who: { username: string; email: string },
  field: string,
): void {
  const options = {
    minLength: s.config.passwordMinLength,
    maxLength: s.config.passwordMaxLength,
    username: who.username,
    email: who.email,
  };
  const reasons = checkPassword(password, options);
  if (reasons.length === 0) return;
  const messages = reasons.map((r) => describeProblem(r, options));
  throw new AppError(422, 'weak_password', messages.join(' '), {
    reasons,
    errors: messages.map((message) => ({ field, message })),
  });
}

// Unknown members are dropped by the schema; a body left with nothing to change is refused, not a no-op.
function nothingToChange(fields: string): ValidationError {
  return new ValidationError('Nothing to change.', [
    { field: 'body', message: `give at least one of: ${fields}` },
  ]);
}

function conflict(error: unknown): never {
  if (error instanceof ConflictError) {
    throw new AppError(409, 'user_exists', `A user with this ${error.field} already exists.`, {
      field: error.field,
    });
  }
  throw error;
}

export async function register(s: Services, input: NewAccount): Promise<User> {
  const identity = identityFields(input);
  if (!input.passwordHash) {
    enforcePasswordPolicy(
      s,
      input.password,
      { username: input.username, email: input.email },
      'password',
    );
  }
  const passwordHash = input.passwordHash ?? (await s.hasher.hash(input.password));
  const now = s.clock();
  try {
    return await s.store.users.create({
      id: uuidv7(now),
      email: identity.email as string,
      emailNorm: identity.emailNorm as string,
      username: identity.username as string,
      usernameNorm: identity.usernameNorm as string,
      passwordHash,
      isActive: true,
      isSuperuser: input.isSuperuser === true,
      isVerified: input.isVerified === true,
      scopes: [...s.config.defaultScopes],
      createdAt: now,
    });
  } catch (error) {
    conflict(error);
  }
}

async function requireUser(s: Services, id: string): Promise<User> {
  const user = await s.store.users.findById(id);
  if (!user) throw notFound('User');
  return user;
}

/** Checks the user's password for a sensitive change; failures count toward the lockout. */
export async function requirePassword(
  s: Services,
  user: User,
  password: string,
  field: string,
): Promise<void> {
  // A stolen access token must not become a password oracle: these failures count toward the
  // same lockout as logins, under both of the account's names.
  const keys = accountLockoutKeys(user);
  await withAttemptSlot(s, keys[0] as string, async () => {
    await checkLockout(s, keys);
    if (!(await s.hasher.verify(user.passwordHash, password))) {
      await recordFailure(s, keys, { userId: user.id });
      throw new AppError(400, 'invalid_password', 'The password is incorrect.', {
        errors: [{ field, message: 'incorrect password' }],
      });
    }
    await resetLockout(s, keys);
  });
}

export async function updateProfile(
  s: Services,
  userId: string,
  input: { email?: string | undefined; username?: string | undefined },
): Promise<User> {
  const user = await requireUser(s, userId);
  const patch = identityFields(input);
  if (Object.keys(patch).length === 0) throw nothingToChange('email, username');
  // A new address has not been proven to belong to the user.
  const current = parseEmail(user.email);
  if (patch.emailNorm !== undefined && (!current.ok || current.normalized !== patch.emailNorm)) {
    patch.isVerified = false;
  }
  try {
    return (await s.store.users.update(userId, patch, s.clock())) ?? (await requireUser(s, userId));
  } catch (error) {
    conflict(error);
  }
}

export async function changePassword(
  s: Services,
  userId: string,
  currentSessionId: string,
  input: { current_password: string; new_password: string },
): Promise<void> {
  const user = await requireUser(s, userId);
  await requirePassword(s, user, input.current_password, 'current_password');
  enforcePasswordPolicy(s, input.new_password, user, 'new_password');
  await s.store.users.update(
    userId,
    { passwordHash: await s.hasher.hash(input.new_password) },
    s.clock(),
  );
  // Whoever else holds a session may be the reason for the change: end them all but this one.
  await endOtherSessions(s, userId, currentSessionId);
}

export async function setPassword(s: Services, userId: string, password: string): Promise<void> {
  const user = await requireUser(s, userId);
  enforcePasswordPolicy(s, password, user, 'password');
  await s.store.users.update(userId, { passwordHash: await s.hasher.hash(password) }, s.clock());
  await endOtherSessions(s, userId);
}

export async function deleteAccount(s: Services, userId: string, password: string): Promise<void> {
  const user = await requireUser(s, userId);
  await requirePassword(s, user, password, 'password');
  await deleteUser(s, userId);
}

export async function deleteUser(s: Services, userId: string): Promise<void> {
  const entry = s.revocations.userEntry(userId);
  const deleted = await s.store.transaction(async (tx) => {
    const gone = await tx.users.delete(userId);
    if (gone) await tx.revocations.insert(entry);
    return gone;
  });
  if (!deleted) throw notFound('User');
  s.revocations.apply([entry]);
}

export interface AdminPatch {
  is_active?: boolean | undefined;
  is_superuser?: boolean | undefined;
  is_verified?: boolean | undefined;
  scopes?: string[] | undefined;
}

export async function adminUpdate(s: Services, userId: string, input: AdminPatch): Promise<User> {
  const user = await requireUser(s, userId);
  if (input.scopes) {
    const unknown = input.scopes.filter((x) => !s.config.scopes.includes(x) || x === ADMIN_SCOPE);
    if (unknown.length > 0) {
      throw new ValidationError('Unknown or reserved scopes.', [
        {
          field: 'scopes',
          message: `not grantable: ${unknown.join(', ')} (admin follows is_superuser)`,
        },
      ]);
    }
  }
  const patch: UserPatch = {};
  if (input.is_active !== undefined) patch.isActive = input.is_active;
  if (input.is_superuser !== undefined) patch.isSuperuser = input.is_superuser;
  if (input.is_verified !== undefined) patch.isVerified = input.is_verified;
  if (input.scopes !== undefined) patch.scopes = [...new Set(input.scopes)];
  if (Object.keys(patch).length === 0)
    throw nothingToChange('is_active, is_superuser, is_verified, scopes');
  const lost =
    (user.isActive && patch.isActive === false) ||
    (user.isSuperuser && patch.isSuperuser === false) ||
    (patch.scopes !== undefined && user.scopes.some((x) => !patch.scopes?.includes(x)));
  // Losing a right must bite on tokens already issued: void them via the user's "valid after".
  const entry = lost ? s.revocations.userEntry(userId) : undefined;
  const updated = await s.store.transaction(async (tx) => {
    const row = await tx.users.update(userId, patch, s.clock());
    if (entry) await tx.revocations.insert(entry);
    return row;
  });
  if (!updated) throw notFound('User');
  if (entry) s.revocations.apply([entry]);
  if (patch.isActive === false) await endOtherSessions(s, userId);
  return updated;
}
