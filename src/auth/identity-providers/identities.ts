// The signed-in user's linked identities: listed for /account and GET /users/me/identities, and
// unlinked, never the last way into an account that has no password.
import { AppError, notFound } from '../../errors/index.ts';
import { recordAudit } from '../audit/index.ts';
import type { Uses } from '../services.ts';

export interface LinkedIdentity {
  provider: string;
  /** The provider's name in sentences, or its configured name when it is no longer configured. */
  displayName: string;
  email: string | null;
  linkedAt: number;
  lastUsedAt: number | null;
}

export async function listIdentities(
  s: Uses<'identityProviders' | 'store'>,
  userId: string,
): Promise<LinkedIdentity[]> {
  const rows = await s.store.identities.listForUser(userId);
  return rows.map((row) => ({
    provider: row.provider,
    displayName: s.identityProviders.settings(row.provider)?.displayName ?? row.provider,
    email: row.email,
    linkedAt: row.linkedAt,
    lastUsedAt: row.lastUsedAt,
  }));
}

/** Unlinks the user's identity at the provider; 404 without one, 409 if it is the only way in. */
export async function unlinkIdentity(
  s: Uses<'clock' | 'store'>,
  userId: string,
  provider: string,
): Promise<void> {
  const now = s.clock();
  await s.store.transaction(async (tx) => {
    const user = await tx.users.findById(userId);
    if (!user) throw notFound('User');
    // Holding the user's row serialises two unlinks at once, so both cannot pass the check below.
    if (!(await tx.users.holdSecurityVersion(user.id, user.securityVersion)))
      throw new AppError('edit_conflict', 'The account changed meanwhile: try again.');
    const linked = await tx.identities.listForUser(userId);
    const mine = linked.filter((i) => i.provider === provider);
    if (mine.length === 0) throw notFound(`A linked ${provider} identity`);
    // An account left with neither a password, another identity nor a passkey could never be
    // signed into.
    if (
      !user.hasPassword &&
      linked.length === mine.length &&
      (await tx.passkeys.countByUser(userId)) === 0
    )
      throw new AppError(
        'last_sign_in_method',
        'This is the only way to sign in to this account: set a password (through "Forgot your password?") link another provider or add a passkey first.',
      );
    await tx.identities.unlink(userId, provider);
    await recordAudit(tx, {
      type: 'identity.unlink',
      actorId: userId,
      subjectId: userId,
      at: now,
      details: { provider },
    });
  });
}
