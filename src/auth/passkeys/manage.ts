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

/**
 * Whether the account keeps a way in once this passkey is gone. Every account has a password today
 * (no route removes it, and a reset mails a new one), so this holds; it is asked anyway, so that a
 * passwordless account added later cannot lose its last passkey.
 */
function keepsAWayIn(user: User, passkeysLeft: number): boolean {
  return user.passwordHash !== '' || passkeysLeft > 0;
}

export async function removePasskey(
  s: Uses<'clock' | 'store'>,
  user: User,
  id: string,
): Promise<void> {
  await s.store.transaction(async (tx) => {
    const passkey = await tx.passkeys.findById(id);
    // Another user's passkey is "not found" too: ids are not probed.
    if (!passkey || passkey.userId !== user.id) throw notFound('Passkey');
    const left = (await tx.passkeys.countByUser(user.id)) - 1;
    if (!keepsAWayIn(user, left)) {
      throw new AppError(
        'last_way_in',
        'This passkey is the only way into the account: add another first.',
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
