// A user's own passkeys: listed with their last use, renamed, removed.
import { AppError, notFound } from '../../errors/index.ts';
import type { User } from '../../store/index.ts';
import { recordAudit } from '../audit/index.ts';
import type { Uses } from '../services.ts';
import { cleanName, type PasskeyView, passkeyView } from './registration.ts';

export async function listPasskeys(s: Uses<'store'>, user: User): Promise<PasskeyView[]> {
  return (await s.store.passkeys.listByUser(user.id)).map(passkeyView);
}

export async function renamePasskey(
  s: Uses<'clock' | 'store'>,
  user: User,
  id: string,
  name: string,
): Promise<PasskeyView> {
  const clean = cleanName(name, '');
  if (clean === '') {
    throw new AppError('validation_failed', 'The name must not be empty.', {
      errors: [{ field: 'name', message: 'must not be empty' }],
    });
  }
  return s.store.transaction(async (tx) => {
    const renamed = await tx.passkeys.rename(user.id, id, clean);
    if (!renamed) throw notFound('Passkey');
    await recordAudit(tx, {
      type: 'passkey.rename',
      actorId: user.id,
      subjectId: user.id,
      at: s.clock(),
      details: { passkey_id: id, name: clean },
    });
    return passkeyView(renamed);
  });
}

export async function removePasskey(
  s: Uses<'clock' | 'store'>,
  user: User,
  id: string,
): Promise<void> {
  await s.store.transaction(async (tx) => {
    // Holding the user's row orders this against an unlink of an identity (which holds it too), so
    // the two cannot each remove what they think is not the last way in.
    const held = await tx.users.findById(user.id);
    if (!held || !(await tx.users.holdSecurityVersion(held.id, held.securityVersion)))
      throw new AppError('edit_conflict', 'The account changed meanwhile: try again.');
    const passkey = await tx.passkeys.findById(id);
    // Another user's passkey is "not found" too: ids are not probed.
    if (!passkey || passkey.userId !== user.id) throw notFound('Passkey');
    const left = (await tx.passkeys.countByUser(user.id)) - 1;
    // An account with no password, no other passkey and no linked identity could never sign in.
    if (
      !held.hasPassword &&
      left === 0 &&
      (await tx.identities.listForUser(user.id)).length === 0
    ) {
      throw new AppError(
        'last_sign_in_method',
        'This passkey is the only way into the account: set a password or add another way in first.',
      );
    }
    if (!(await tx.passkeys.delete(user.id, id))) throw notFound('Passkey');
    await recordAudit(tx, {
      type: 'passkey.remove',
      actorId: user.id,
      subjectId: user.id,
      at: s.clock(),
      details: { passkey_id: id, name: passkey.name },
    });
  });
}

/** How many passkeys each user has (the admin list). */
export function passkeyCounts(
  s: Uses<'store'>,
  userIds: readonly string[],
): Promise<Map<string, number>> {
  return s.store.passkeys.countByUsers(userIds);
}
