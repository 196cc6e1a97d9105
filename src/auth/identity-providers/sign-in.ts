// After the provider has answered: an identity already linked signs its user in (with the second
// factor and the deactivation and verified-address rules of /login); a link started from /account
// links; otherwise a new account, unless signup is off or the address is already an account's.
import { randomInt } from 'node:crypto';
import { uuidv7 } from '../../crypto/random.ts';
import { AppError, isAppError } from '../../errors/index.ts';
import { ConflictError, type User } from '../../store/index.ts';
import { recordAudit } from '../audit/index.ts';
import {
  effectiveScopes,
  grantScope,
  parseEmail,
  parseScope,
  parseUsername,
} from '../identity/index.ts';
import { requireVerifiedEmail } from '../mail-tokens/index.ts';
import { requireSecondFactor } from '../second-factor/index.ts';
import type { Uses } from '../services.ts';
import { type ClientInfo, type LoginResult, startSession } from '../sessions/index.ts';
import type { PendingSignIn } from './flow.ts';
import type { Profile } from './profile.ts';

export type Refusal =
  | 'inactive'
  | 'email_collision'
  | 'signup_disabled'
  | 'no_email'
  | 'linked_elsewhere'
  | 'link_user_gone'
  | 'email_not_verified';

export type ProviderOutcome =
  | { kind: 'session'; result: LoginResult; next: string; created: boolean }
  | { kind: 'second_factor'; mfaToken: string; next: string }
  | { kind: 'linked'; next: string }
  | { kind: 'refused'; reason: Refusal; detail: string };

type SignInUses = Uses<
  'accessTokens' | 'clock' | 'mailer' | 'refreshTokens' | 'secrets' | 'store',
  | 'accessTokenTtlSeconds'
  | 'allowSignup'
  | 'defaultScopes'
  | 'publicUrl'
  | 'refreshTokenTtlSeconds'
  | 'requireVerifiedEmail'
  | 'scopes'
>;

const refused = (reason: Refusal, detail: string): ProviderOutcome => ({
  kind: 'refused',
  reason,
  detail,
});

async function failure(
  s: Uses<'clock' | 'store'>,
  provider: string,
  reason: Refusal,
  userId: string | null,
): Promise<void> {
  await recordAudit(s.store, {
    type: 'login.failure',
    actorId: null,
    subjectId: userId,
    at: s.clock(),
    details: { reason, provider },
  });
}

export async function providerSignIn(
  s: SignInUses,
  pending: PendingSignIn,
  profile: Profile,
  label: string,
  client: ClientInfo,
): Promise<ProviderOutcome> {
  const { provider } = pending;
  const identity = await s.store.identities.find(provider, profile.subject);
  if (pending.linkUserId !== null) return link(s, pending, profile, identity?.userId, label);
  if (identity) {
    const user = await s.store.users.findById(identity.userId);
    if (!user?.isActive) {
      await failure(s, provider, 'inactive', identity.userId);
      return refused('inactive', 'This account is disabled.');
    }
    await s.store.identities.touch(provider, profile.subject, profile.email ?? null, s.clock());
    return signIn(s, user, pending, client, false);
  }
  return createAccount(s, pending, profile, label, client);
}

/** The session of /login for this user: the second factor first, then the address rule. */
async function signIn(
  s: SignInUses,
  user: User,
  pending: PendingSignIn,
  client: ClientInfo,
  created: boolean,
): Promise<ProviderOutcome> {
  const scope = grantScope(parseScope(undefined), effectiveScopes(user, s.config.scopes));
  try {
    // A provider vouches for one factor only: an account with 2FA still gives its code.
    await requireSecondFactor(s, user, scope, client);
    requireVerifiedEmail(s, user);
  } catch (error) {
    if (isAppError(error, 'mfa_required'))
      return {
        kind: 'second_factor',
        mfaToken: String(error.extra.mfa_token),
        next: pending.next,
      };
    if (isAppError(error, 'email_not_verified'))
      return refused('email_not_verified', error.message);
    throw error;
  }
  const result = await startSession(s, user, scope, client, {
    audit: { type: 'login.success', details: { provider: pending.provider } },
  });
  return { kind: 'session', result, next: pending.next, created };
}

async function link(
  s: SignInUses,
  pending: PendingSignIn,
  profile: Profile,
  linkedTo: string | undefined,
  label: string,
): Promise<ProviderOutcome> {
  const userId = pending.linkUserId as string;
  if (linkedTo === userId) return { kind: 'linked', next: pending.next };
  // One account per identity: taking it from another account would hand that account over.
  if (linkedTo !== undefined)
    return refused(
      'linked_elsewhere',
      `This ${label} identity is already linked to another account. Sign in with it, or unlink it there first.`,
    );
  const user = await s.store.users.findById(userId);
  if (!user?.isActive) return refused('link_user_gone', 'Your account is no longer available.');
  const now = s.clock();
  try {
    await s.store.transaction(async (tx) => {
      await tx.identities.link({
        provider: pending.provider,
        subject: profile.subject,
        userId,
        email: profile.email ?? null,
        linkedAt: now,
      });
      await recordAudit(tx, {
        type: 'identity.link',
        actorId: userId,
        subjectId: userId,
        at: now,
        details: { provider: pending.provider, email: profile.email ?? null },
      });
    });
  } catch (error) {
    if (error instanceof ConflictError)
      return refused('linked_elsewhere', `This ${label} identity is already linked to an account.`);
    throw error;
  }
  return { kind: 'linked', next: pending.next };
}

/** A username from preferred_username or the address's local part, valid and not yet taken. */
async function freeUsername(s: Uses<'store'>, profile: Profile, attempt: number): Promise<string> {
  const wanted = profile.preferredUsername ?? profile.email?.split('@')[0] ?? '';
  let base = Array.from(wanted.normalize('NFKC').replace(/[^\p{L}\p{N}._-]+/gu, ''))
    .slice(0, 24)
    .join('');
  if (!parseUsername(base).ok) base = 'user';
  for (let i = attempt; i < attempt + 10; i++) {
    const candidate = i === 0 ? base : `${base}-${randomInt(1000, 100000)}`;
    const parsed = parseUsername(candidate);
    if (parsed.ok && !(await s.store.users.findByUsernameNorm(parsed.normalized))) return candidate;
  }
  return `user-${randomInt(100000, 100000000)}`;
}

async function createAccount(
  s: SignInUses,
  pending: PendingSignIn,
  profile: Profile,
  label: string,
  client: ClientInfo,
): Promise<ProviderOutcome> {
  if (!s.config.allowSignup)
    return refused(
      'signup_disabled',
      `No account is linked to this ${label} identity, and new accounts cannot be created here.`,
    );
  const email = profile.email === undefined ? undefined : parseEmail(profile.email);
  if (!email?.ok)
    return refused(
      'no_email',
      `${label} did not share a usable email address, which a new account needs.`,
    );
  const collision = (): ProviderOutcome =>
    refused(
      'email_collision',
      `An account with the address ${email.value} already exists. Sign in to it with its password, then link ${label} from your account page.`,
    );
  // Never linked by address: whoever controls the address at the provider (or the provider itself)
  // would be handed the existing account (account takeover). The owner links from /account.
  if (await s.store.users.findByEmailNorm(email.normalized)) {
    await failure(s, pending.provider, 'email_collision', null);
    return collision();
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const username = await freeUsername(s, profile, attempt);
    const parsed = parseUsername(username);
    if (!parsed.ok) break;
    const now = s.clock();
    const id = uuidv7(now);
    try {
      const user = await s.store.transaction(async (tx) => {
        const made = await tx.users.create({
          id,
          email: email.value,
          emailNorm: email.normalized,
          username: parsed.value,
          usernameNorm: parsed.normalized,
          // No password: the password grant refuses it; the reset flow can set one (SPEC §9).
          passwordHash: '',
          hasPassword: false,
          isActive: true,
          isSuperuser: false,
          // Verified only on the provider's word that it is.
          isVerified: profile.emailVerified,
          scopes: [...s.config.defaultScopes],
          createdAt: now,
        });
        await tx.identities.link({
          provider: pending.provider,
          subject: profile.subject,
          userId: id,
          email: email.value,
          linkedAt: now,
        });
        await recordAudit(tx, {
          type: 'user.register',
          actorId: id,
          subjectId: id,
          at: now,
          details: { username: made.username, email: made.email, provider: pending.provider },
        });
        await recordAudit(tx, {
          type: 'identity.link',
          actorId: id,
          subjectId: id,
          at: now,
          details: { provider: pending.provider, email: made.email, new_account: true },
        });
        return made;
      });
      return signIn(s, user, pending, client, true);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      // The address was taken meanwhile: the same refusal as above.
      if (error.field === 'email') return collision();
      // A username taken meanwhile: another one. The identity linked meanwhile: the other wins.
      if (
        error.field === 'id' &&
        (await s.store.identities.find(pending.provider, profile.subject))
      )
        throw new AppError('edit_conflict', 'This sign-in happened twice at once: sign in again.');
    }
  }
  throw new AppError('edit_conflict', 'No free username could be found: sign in again.');
}
