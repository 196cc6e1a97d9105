// Black-box regression test: two instances starting at the same moment on a fresh database each
// created a current signing key (on PostgreSQL in 3 of 4 rounds), then each signed with its own and
// refused the other's tokens until its next key reload. Now one current key per algorithm is a rule
// of the database: one key wins, both instances sign with it. On SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openDatabase } from '../../src/store/database.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { client, login, newIdentity } from '../support/http.ts';
import { createTempPgDatabase, testDatabases } from '../support/postgres.ts';
import { startServer } from '../support/server.ts';

const ROUNDS = 4;
// Keys are reloaded far later than the test runs: only the start-up decides which key signs.
const ENV = { KEYS_RELOAD_SECONDS: '3600' };

for (const db of testDatabases()) {
  describe(`instances starting together on ${db}`, () => {
    it('each made a signing key of its own and refused the other’s tokens: one key, accepted by both', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-start-'));
        const pg = db === 'postgres' ? await createTempPgDatabase() : undefined;
        const databaseUrl = pg?.url ?? `sqlite:${join(dataDir, 'portcullis.db')}`;
        // Migrated first: this is about the keys, not two migrators at once.
        const database = await openDatabase(databaseUrl);
        await migrateToLatest(database);
        await database.close();
        const reuse = { dataDir, databaseUrl };
        const [a, b] = await Promise.all([
          startServer({ db, env: ENV, reuse }),
          startServer({ db, env: ENV, reuse }),
        ]);
        try {
          const kids = async (url: string) => {
            const answer = await client(url).get<{ keys: Array<{ kid: string }> }>(
              '/.well-known/jwks.json',
            );
            return answer.body.keys.map((k) => k.kid).sort();
          };
          const [kidsA, kidsB] = [await kids(a.url), await kids(b.url)];
          assert.equal(kidsA.length, 1, `round ${round}: keys on A ${kidsA.join(', ')}`);
          assert.deepEqual(kidsB, kidsA, `round ${round}: both publish the same key`);
          // A token signed by either instance is accepted by the other.
          for (const [signer, checker] of [
            [a, b],
            [b, a],
          ] as const) {
            const who = newIdentity('twostart');
            const created = await client(signer.url).post('/register', who);
            assert.equal(created.status, 201, created.text);
            const tokens = await login(client(signer.url), who.username, who.password);
            const me = await client(checker.url).get('/users/me', { token: tokens.access_token });
            assert.equal(me.status, 200, `round ${round}: ${me.text}`);
          }
        } finally {
          await b.close();
          await a.close();
          await pg?.drop();
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
    });
  });
}
