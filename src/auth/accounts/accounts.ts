// Accounts: registration, profile and password changes, deletion, and the administrator's changes.
import { uuidv7 } from '../../crypto/random.ts';
import { AppError, type FieldError, notFound, ValidationError } from '../../errors/index.ts';
import { ConflictError, type Revocation, type User, type UserPatch } from '../../store/index.ts';
import { recordAudit } from '../audit/index.ts';
import { ADMIN_SCOPE, effectiveScopes, parseEmail, parseUsername } from '../identity/index.ts';
import { requirePassword } from '../lockout/index.ts';
import type { Uses } from '../services.ts';
import { endSessionsIn } from '../sessions/index.ts';
import { passwordAdvice } from './password-check.ts';

export interface NewAccount {
  email: string;
  username: string;
  password: string;
  isSuperuser?: boolean;
  /** The address is vouched for (an operator's own entry): no verification mail needed. */
  isVerified?: boolean;
  /** An existing hash (imports): kept as is, so the policy cannot be checked. */
  passwordHash?: string;
  /** Who creates the account, for the audit log: the new user itself unless given (null: the CLI). */
  actorId?: string | null;
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
  s: Uses<never, 'passwordMaxLength' | 'passwordMinLength'>,
  password: string,
  who: { username: string; email: string },
  field: string,
): void {
  const advice = passwordAdvice(s, password, who);
  if (advice.acceptable) return;
  throw new AppError('weak_password', advice.messages.join(' '), {
    reasons: advice.reasons,
    errors: advice.messages.map((message) => ({ field, message })),
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
    throw new AppError('user_exists', `A user with this ${error.field} already exists.`, {
      field: error.field,
    });
  }
  throw error;
}

export async function register(
  s: Uses<
    'clock' | 'hasher' | 'store',
    'defaultScopes' | 'passwordMaxLength' | 'passwordMinLength'
  >,
  input: NewAccount,
): Promise<User> {
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
  const id = uuidv7(now);
  try {
    return await s.store.transaction(async (tx) => {
      const user = await tx.users.create({
        id,
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
      await recordAudit(tx, {
        type: 'user.register',
        actorId: input.actorId === undefined ? id : input.actorId,
        subjectId: id,
        at: now,
        details: {
          username: user.username,
          email: user.email,
          is_superuser: user.isSuperuser,
          imported_hash: input.passwordHash !== undefined,
        },
      });
      return user;
    });
  } catch (error) {
    conflict(error);
  }
}

/** The fields a patch changed, old and new value, for the audit log. */
function changes(
  before: User,
  after: User,
  fields: ReadonlyArray<keyof User>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const [from, to] = [before[field], after[field]];
    if (JSON.stringify(from) !== JSON.stringify(to)) out[field] = { from, to };
  }
  return out;
}

async function requireUser(s: Uses<'store'>, id: string): Promise<User> {
  const user = await s.store.users.findById(id);
  if (!user) throw notFound('User');
  return user;
}

export async function updateProfile(
  s: Uses<'clock' | 'store'>,
  userId: string,
  input: { email?: string | undefined; username?: string | undefined },
): Promise<User> {
  const patch = identityFields(input);
  if (Object.keys(patch).length === 0) throw nothingToChange('email, username');
  // Whether the address stays verified is decided on the row as read; the write applies only while
  // the stored address is still that one, else the decision is made again on a fresh read.
  for (let attempt = 1; ; attempt++) {
    const user = await requireUser(s, userId);
    const write: UserPatch = { ...patch };
    // Any other text is another mailbox until proven: the fold that keeps addresses unique maps
    // 'ı'→'i', 'ß'→'ss', 'ς'→'σ', and a mail system may tell the local part's case apart.
    if (write.email !== undefined && write.email !== user.email) write.isVerified = false;
    const now = s.clock();
    let updated: User | undefined;
    try {
      updated = await s.store.transaction(async (tx) => {
        const row = await tx.users.update(userId, write, now, { email: user.email });
        if (!row) return undefined;
        await recordAudit(tx, {
          type: 'user.update',
          actorId: userId,
          subjectId: userId,
          at: now,
          details: { changes: changes(user, row, ['email', 'username', 'isVerified']) },
        });
        return row;
      });
    } catch (error) {
      conflict(error);
    }
    if (updated) return updated;
    if (attempt === 3) {
      await requireUser(s, userId);
      throw new AppError('edit_conflict', 'The account changed meanwhile; try again.');
    }
  }
}

/**
 * Stores a new password hash and ends the user's sessions (all but `keepSessionId`), with the audit
 * entry, in one transaction.
 */
async function replacePassword(
  s: Uses<'clock' | 'revocations' | 'store'>,
  userId: string,
  passwordHash: string,
  keepSessionId: string | undefined,
  actorId: string | null,
): Promise<void> {
  const now = s.clock();
  const entries = await s.store.transaction(async (tx) => {
    // The bump refuses sign-ins that checked the old password and have not made their session yet;
    // the sessions they made already are listed (after this write) and ended below.
    await tx.users.update(
      userId,
      { passwordHash, hasPassword: true, bumpSecurityVersion: true },
      now,
    );
    const active = await tx.sessions.listActive(userId, now);
    const ended = active.filter((x) => x.id !== keepSessionId).map((x) => x.id);
    const made = await endSessionsIn(s, tx, ended, now);
    await recordAudit(tx, {
      type: 'password.change',
      actorId,
      subjectId: userId,
      at: now,
      details: { sessions_ended: ended },
    });
    return made;
  });
  s.revocations.apply(entries);
}

export async function changePassword(
  s: Uses<
    'clock' | 'hasher' | 'kv' | 'revocations' | 'store',
    | 'lockoutBaseSeconds'
    | 'lockoutMaxSeconds'
    | 'lockoutQueueSeconds'
    | 'lockoutThreshold'
    | 'lockoutWindowSeconds'
    | 'passwordMaxLength'
    | 'passwordMinLength'
  >,
  userId: string,
  currentSessionId: string,
  input: { current_password: string; new_password: string },
): Promise<void> {
  const user = await requireUser(s, userId);
  await requirePassword(s, user, input.current_password, 'current_password');
  enforcePasswordPolicy(s, input.new_password, user, 'new_password');
  const hash = await s.hasher.hash(input.new_password);
  // Whoever else holds a session may be the reason for the change: end them all but this one.
  await replacePassword(s, userId, hash, currentSessionId, userId);
}

export async function setPassword(
  s: Uses<'clock' | 'hasher' | 'revocations' | 'store', 'passwordMaxLength' | 'passwordMinLength'>,
  userId: string,
  password: string,
): Promise<void> {
  const user = await requireUser(s, userId);
  enforcePasswordPolicy(s, password, user, 'password');
  // The operator's command (CLI): no acting user.
  await replacePassword(s, userId, await s.hasher.hash(password), undefined, null);
}

export async function deleteAccount(
  s: Uses<
    'clock' | 'hasher' | 'kv' | 'revocations' | 'store',
    | 'lockoutBaseSeconds'
    | 'lockoutMaxSeconds'
    | 'lockoutQueueSeconds'
    | 'lockoutThreshold'
    | 'lockoutWindowSeconds'
  >,
  userId: string,
  password: string,
): Promise<void> {
  const user = await requireUser(s, userId);
  await requirePassword(s, user, password, 'password');
  await deleteUser(s, userId, userId);
}

/** Deletes a user; `actorId` other than the user is an administrator (or null: the operator). */
export async function deleteUser(
  s: Uses<'clock' | 'revocations' | 'store'>,
  userId: string,
  actorId: string | null = null,
): Promise<void> {
  const entry = s.revocations.userEntry(userId);
  const now = s.clock();
  const deleted = await s.store.transaction(async (tx) => {
    const user = await tx.users.findById(userId);
    if (!user || !(await tx.users.delete(userId))) return false;
    await tx.revocations.insert(entry);
    await recordAudit(tx, {
      type: actorId === userId ? 'user.delete' : 'admin.user_delete',
      actorId,
      subjectId: userId,
      at: now,
      details: { username: user.username, email: user.email },
    });
    return true;
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

export async function adminUpdate(
  s: Uses<'clock' | 'revocations' | 'store', 'scopes'>,
  userId: string,
  input: AdminPatch,
  actorId: string | null = null,
): Promise<User> {
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
  // Losing a right must bite on tokens already issued: void them via the user's "valid after", end
  // the sessions that hold the right (a token minted by a sign-in that overlapped the change would
  // carry it), and bump the version so sign-ins still in flight are refused.
  if (lost) patch.bumpSecurityVersion = true;
  const entry = lost ? s.revocations.userEntry(userId) : undefined;
  const now = s.clock();
  const applied: Revocation[] = [];
  const updated = await s.store.transaction(async (tx) => {
    const row = await tx.users.update(userId, patch, now);
    if (!row) return undefined;
    if (entry) {
      await tx.revocations.insert(entry);
      applied.push(entry);
    }
    if (lost) {
      // Listed after the write above, so a session made by an overlapping sign-in is among them.
      const rights = effectiveScopes(row, s.config.scopes);
      const holding = (await tx.sessions.listActive(userId, now)).filter(
        (x) =>
          !row.isActive ||
          x.scope.split(' ').some((right) => right !== '' && !rights.includes(right)),
      );
      applied.push(
        ...(await endSessionsIn(
          s,
          tx,
          holding.map((x) => x.id),
          now,
        )),
      );
    }
    await recordAudit(tx, {
      type: 'admin.user_update',
      actorId,
      subjectId: userId,
      at: now,
      details: { changes: changes(user, row, ['isActive', 'isSuperuser', 'isVerified', 'scopes']) },
    });
    return row;
  });
  if (!updated) throw notFound('User');
  s.revocations.apply(applied);
  return updated;
}
