// Never an account with no way in (SPEC §9, §10): an account without a password — made through an
// identity provider — keeps at least one of its linked identities and passkeys. Removing a passkey
// and unlinking an identity are two features' rules over one fact, so they are tested together
// here, on each database, through the services the routes call: each alone, and the two racing
// for the last two ways in (both may not pass; on PostgreSQL they run truly at once).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { unlinkIdentity } from '../../src/auth/identity-providers/index.ts';
import { removePasskey } from '../../src/auth/passkeys/index.ts';
import { isAppError } from '../../src/errors/index.ts';
import type { User } from '../../src/store/index.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

for (const db of testDatabases()) {
  describe(`the last way into an account without a password, on ${db}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({ db });
    });
    after(() => server.close());

    /** A provider-only account (as a first provider sign-in makes it) with `passkeys` passkeys. */
    async function account(passkeys: number): Promise<{ user: User; passkeyIds: string[] }> {
      const s = server.app.services;
      const id = randomUUID();
      const name = `way${id.slice(0, 8)}`;
      const now = s.clock();
      const user = await s.store.users.create({
        id,
        email: `${name}@corp.example`,
        emailNorm: `${name}@corp.example`,
        username: name,
        usernameNorm: name,
        passwordHash: '',
        hasPassword: false,
        isActive: true,
        isSuperuser: false,
        isVerified: true,
        scopes: ['read'],
        createdAt: now,
      });
      await s.store.identities.link({
        provider: 'corp',
        subject: `sub-${id}`,
        userId: id,
        email: `${name}@corp.example`,
        linkedAt: now,
      });
      const passkeyIds: string[] = [];
      for (let i = 0; i < passkeys; i++) {
        const passkeyId = randomUUID();
        await s.store.passkeys.insert({
          id: passkeyId,
          userId: id,
          credentialId: `cred-${passkeyId}`,
          publicKey: 'AQID',
          counter: 0,
          transports: ['internal'],
          deviceType: 'multiDevice',
          backedUp: true,
          name: `Passkey ${i + 1}`,
          createdAt: now,
        });
        passkeyIds.push(passkeyId);
      }
      return { user, passkeyIds };
    }

    const refusedAsLast = (error: unknown): boolean => isAppError(error, 'last_sign_in_method');

    it('refuses to unlink the only identity, and allows it when a passkey remains', async () => {
      const s = server.app.services;
      const bare = await account(0);
      await assert.rejects(unlinkIdentity(s, bare.user.id, 'corp'), refusedAsLast);
      assert.equal((await s.store.identities.listForUser(bare.user.id)).length, 1);

      const withPasskey = await account(1);
      await unlinkIdentity(s, withPasskey.user.id, 'corp');
      assert.equal((await s.store.identities.listForUser(withPasskey.user.id)).length, 0);
      // Now the passkey is the only way in: it stays.
      await assert.rejects(
        removePasskey(s, withPasskey.user, withPasskey.passkeyIds[0] as string),
        refusedAsLast,
      );
      assert.equal(await s.store.passkeys.countByUser(withPasskey.user.id), 1);
    });

    it('removes a passkey while an identity or another passkey remains', async () => {
      const s = server.app.services;
      const { user, passkeyIds } = await account(2);
      await removePasskey(s, user, passkeyIds[0] as string);
      await removePasskey(s, user, passkeyIds[1] as string); // the identity remains
      assert.equal(await s.store.passkeys.countByUser(user.id), 0);
      await assert.rejects(unlinkIdentity(s, user.id, 'corp'), refusedAsLast);
    });

    it('lets only one of a concurrent unlink and passkey removal take the last two ways in', async () => {
      const s = server.app.services;
      for (let round = 0; round < 10; round++) {
        const { user, passkeyIds } = await account(1);
        const outcomes = await Promise.allSettled([
          unlinkIdentity(s, user.id, 'corp'),
          removePasskey(s, user, passkeyIds[0] as string),
        ]);
        const passed = outcomes.filter((o) => o.status === 'fulfilled').length;
        for (const o of outcomes) {
          // The loser is refused as the last way in, or asked to retry (the account changed).
          if (o.status === 'rejected') {
            assert.ok(
              refusedAsLast(o.reason) || isAppError(o.reason, 'edit_conflict'),
              `round ${round}: ${String(o.reason)}`,
            );
          }
        }
        assert.ok(passed <= 1, `round ${round}: both passed`);
        const left =
          (await s.store.identities.listForUser(user.id)).length +
          (await s.store.passkeys.countByUser(user.id));
        assert.ok(left >= 1, `round ${round}: the account has no way in`);
      }
    });
  });
}
