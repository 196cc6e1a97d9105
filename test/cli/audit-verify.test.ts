// `portcullis audit verify` against a log written by a real server (concurrent writers included),
// then edited directly in the database as an intruder with write access would: each kind of
// tampering is detected and the first bad entry is named.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { verifyAuditChain } from '../../src/auth/audit/index.ts';
import { chainHash } from '../../src/store/audit-log.ts';
import { type Database, openDatabase } from '../../src/store/database.ts';
import { client, login, registerAndLogin } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { cli } from '../support/process.ts';
import { startServer, type TestServer, testEnv } from '../support/server.ts';

for (const db of testDatabases()) {
  describe(`portcullis audit verify on ${db}`, () => {
    let server: TestServer;
    let raw: Database;
    let env: Record<string, string>;

    before(async () => {
      server = await startServer({ db });
      const api = client(server.url);
      // Concurrent writers: registrations, logins and failures racing for the chain head.
      const people = await Promise.all(
        Array.from({ length: 6 }, () => registerAndLogin(api, 'ver')),
      );
      await Promise.all(
        people.flatMap((p) => [
          login(api, p.username, p.password),
          api.post(
            '/token',
            { username: p.username, password: 'wrong wrong wrong' },
            { form: true },
          ),
          api.post('/logout', undefined, { token: p.tokens.access_token }),
        ]),
      );
      env = testEnv(server.dataDir, server.databaseUrl);
      raw = await openDatabase(server.databaseUrl);
    });
    after(async () => {
      await raw.close();
      await server.close();
    });

    const verify = () => cli(['audit', 'verify'], env);
    const count = async (): Promise<number> =>
      Number(
        (
          await raw.kysely
            .selectFrom('audit_log')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    /** Runs a tampering, checks verify names `seq`, then puts the table back as it was. */
    async function tampered(
      change: () => Promise<void>,
      seq: number,
      reason: RegExp,
    ): Promise<void> {
      const saved = await raw.kysely.selectFrom('audit_log').selectAll().orderBy('seq').execute();
      const head = await raw.kysely.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
      try {
        await change();
        const ran = await verify();
        assert.equal(ran.code, 1, ran.stdout + ran.stderr);
        assert.match(ran.stderr, new RegExp(`entry ${seq} fails`));
        assert.match(ran.stderr, reason);
      } finally {
        await raw.kysely.deleteFrom('audit_log').execute();
        await raw.kysely.insertInto('audit_log').values(saved).execute();
        await raw.kysely.updateTable('audit_head').set(head).where('id', '=', 1).execute();
      }
      const restored = await verifyAuditChain(server.app.services.store);
      assert.equal(restored.problem, undefined, 'restored');
    }

    it('an untouched log verifies, with every entry counted', async () => {
      const n = await count();
      // Concurrent attempts on one account may be refused by the lockout's one-check-at-a-time rule.
      assert.ok(n >= 18, `${n} entries`);
      const ran = await verify();
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(
        ran.stdout,
        new RegExp(`Audit log intact: ${n} entries; head hash [0-9a-f]{64}`),
      );
    });

    it('a changed detail is named', async () => {
      await tampered(
        () =>
          sql`update audit_log set details = '{"reason":"nothing to see"}' where seq = 5`
            .execute(raw.kysely)
            .then(() => undefined),
        5,
        /content does not match its hash/,
      );
    });

    it('a changed actor, type, time or address is named (the check the command runs)', async () => {
      const store = server.app.services.store;
      for (const column of ['actor_id', 'type', 'at', 'ip']) {
        const value = column === 'at' ? sql`at + 1` : sql`'x'`;
        const saved = await raw.kysely
          .selectFrom('audit_log')
          .selectAll()
          .where('seq', '=', 9)
          .executeTakeFirstOrThrow();
        await sql`update audit_log set ${sql.ref(column)} = ${value} where seq = 9`.execute(
          raw.kysely,
        );
        try {
          const report = await verifyAuditChain(store);
          assert.equal(report.problem?.seq, 9, column);
          assert.match(report.problem?.reason ?? '', /content does not match its hash/);
        } finally {
          await raw.kysely.updateTable('audit_log').set(saved).where('seq', '=', 9).execute();
        }
      }
      assert.equal((await verifyAuditChain(store)).problem, undefined);
    });

    it('an edit whose own hash was recomputed is caught at the next entry', async () => {
      await tampered(
        async () => {
          const row = await raw.kysely
            .selectFrom('audit_log')
            .selectAll()
            .where('seq', '=', 7)
            .executeTakeFirstOrThrow();
          const forged = { ...row, details: '{"forged":true}' };
          const hash = chainHash(row.prev_hash, {
            seq: Number(row.seq),
            at: Number(row.at),
            type: row.type,
            actorId: row.actor_id,
            subjectId: row.subject_id,
            ip: row.ip,
            userAgent: row.user_agent,
            details: forged.details,
          });
          await raw.kysely
            .updateTable('audit_log')
            .set({ details: forged.details, hash })
            .where('seq', '=', 7)
            .execute();
        },
        8,
        /prev_hash is not the hash of the entry before it/,
      );
    });

    it('a removed entry in the middle is named', async () => {
      await tampered(
        () =>
          raw.kysely
            .deleteFrom('audit_log')
            .where('seq', '=', 12)
            .execute()
            .then(() => undefined),
        13,
        /expected entry 12 here, found 13/,
      );
    });

    it('removed entries at the end are detected through the head', async () => {
      const n = await count();
      await tampered(
        () =>
          raw.kysely
            .deleteFrom('audit_log')
            .where('seq', '>', n - 2)
            .execute()
            .then(() => undefined),
        n - 1,
        new RegExp(`ends at entry ${n - 2} but its head says ${n}`),
      );
    });
  });
}
