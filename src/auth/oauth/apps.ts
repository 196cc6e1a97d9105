// "Apps with access": the registered apps a user has consented to or holds live sessions of, and
// revoking one (its sessions end and its consent is forgotten).
import { notFound } from '../../errors/index.ts';
import { recordAudit } from '../audit/index.ts';
import type { Uses } from '../services.ts';
import { endSessionsIn } from '../sessions/index.ts';

export interface AppAccess {
  clientId: string;
  name: string;
  scope: string[];
  firstParty: boolean;
  consentedAt: number | null;
  lastUsedAt: number | null;
}

export async function listApps(s: Uses<'clock' | 'store'>, userId: string): Promise<AppAccess[]> {
  const consents = await s.store.consents.listForUser(userId);
  const sessions = await s.store.sessions.listActive(userId, s.clock());
  const ids = [
    ...new Set([...consents.map((c) => c.clientId), ...sessions.map((x) => x.clientId)]),
  ];
  const apps: AppAccess[] = [];
  for (const clientId of ids) {
    const client = await s.store.clients.findById(clientId);
    // The web pages' own sessions and the guides' unregistered clients are not apps.
    if (!client) continue;
    const consent = consents.find((c) => c.clientId === clientId);
    const own = sessions.filter((x) => x.clientId === clientId);
    const scope = new Set([...(consent?.scope ?? []), ...own.flatMap((x) => x.scope.split(' '))]);
    apps.push({
      clientId,
      name: client.name,
      scope: [...scope].filter(Boolean),
      firstParty: client.firstParty,
      consentedAt: consent?.createdAt ?? null,
      lastUsedAt: own.length > 0 ? Math.max(...own.map((x) => x.lastUsedAt)) : null,
    });
  }
  return apps.sort(
    (a, b) => (b.lastUsedAt ?? 0) - (a.lastUsedAt ?? 0) || a.name.localeCompare(b.name),
  );
}

export async function revokeApp(
  s: Uses<'clock' | 'revocations' | 'store'>,
  userId: string,
  clientId: string,
): Promise<void> {
  const now = s.clock();
  const applied = await s.store.transaction(async (tx) => {
    const open = (await tx.sessions.listActive(userId, now)).filter((x) => x.clientId === clientId);
    const forgot = await tx.consents.remove(userId, clientId);
    if (!forgot && open.length === 0) throw notFound('App');
    const made = await endSessionsIn(
      s,
      tx,
      open.map((x) => x.id),
      now,
    );
    await recordAudit(tx, {
      type: 'oauth.consent_revoke',
      actorId: userId,
      subjectId: userId,
      at: now,
      details: { client_id: clientId, session_ids: made.map((e) => e.subject) },
    });
    return made;
  });
  s.revocations.apply(applied);
}
