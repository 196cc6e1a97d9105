// The composition root: buildApp opens and migrates DATABASE_URL itself, or serves a store handed to
// it (and leaves that store open when it closes), on each database.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { buildApp } from '../../src/server/app.ts';
import { openDatabase } from '../../src/store/database.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { newIdentity } from '../support/http.ts';
import { createTempPgDatabase, testDatabases } from '../support/postgres.ts';
import { testEnv } from '../support/server.ts';

for (const db of testDatabases()) {
  describe(`the composition root on ${db}`, () => {
    let dataDir: string;
    let databaseUrl: string;
    let drop = async (): Promise<void> => {};
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'portcullis-compose-'));
      if (db === 'postgres') {
        const pg = await createTempPgDatabase();
        databaseUrl = pg.url;
        drop = pg.drop;
      } else {
        databaseUrl = `sqlite:${join(dataDir, 'portcullis.db')}`;
      }
    });
    after(async () => {
      await drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('serves a store handed to it, with an injected clock, and leaves the store open', async () => {
      const database = await openDatabase(databaseUrl);
      await migrateToLatest(database);
      const store: Store = createStore(database);
      // DATABASE_URL names a server that does not exist: only the store handed over can be used.
      const nowhere = 'postgres://postgres@127.0.0.1:1/nowhere';
      const config = loadConfig({ env: testEnv(dataDir, nowhere), envFileDir: null });
      const at = Date.UTC(2030, 0, 1);
      const app = await buildApp(config, { store, clock: () => at, logger: false });
      const who = newIdentity('composed');
      const created = await app.inject({ method: 'POST', url: '/register', payload: who });
      assert.equal(created.statusCode, 201, created.body);
      await app.close();
      // Still open after the app closed: the caller owns it.
      const user = await store.users.findById(created.json().id);
      assert.equal(user?.username, who.username);
      assert.equal(user?.createdAt, at, 'the injected clock stamped the row');
      await store.close();
    });

    it('opens, migrates and closes DATABASE_URL itself when no store is given', async () => {
      const config = loadConfig({ env: testEnv(dataDir, databaseUrl), envFileDir: null });
      const app = await buildApp(config, { logger: false });
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200, ready.body);
      await app.close();
    });
  });
}
