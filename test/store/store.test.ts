// Store conformance suite: ONE list of cases, run against every selected database
// (PORTCULLIS_TEST_DATABASES, default sqlite,postgres), each case on a fresh database.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from '../../src/store/database.ts';
import { createStore } from '../../src/store/index.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { migrationNames } from '../../src/store/migrations/index.ts';
import {
  createTempPgDatabase,
  MISSING_PG_MESSAGE,
  pgAdminUrl,
  testDatabases,
} from '../support/postgres.ts';
import { accountSecurityCases } from './cases-account-security.ts';
import { auditCases } from './cases-audit.ts';
import { authorizationCases } from './cases-authorization.ts';
import { clientCases } from './cases-clients.ts';
import { hotPathCases } from './cases-hot-paths.ts';
import { identityCases } from './cases-identities.ts';
import { passkeyCases } from './cases-passkeys.ts';
import { sessionWriteCases } from './cases-session-writes.ts';
import { sessionCases } from './cases-sessions.ts';
import { storeCases } from './cases-store.ts';
import { tokenCases } from './cases-tokens.ts';
import { userCases } from './cases-users.ts';
import { newUser, type StoreCase, withFreshStore } from './harness.ts';

const cases: StoreCase[] = [
  ...storeCases,
  ...userCases,
  ...sessionCases,
  ...tokenCases,
  ...auditCases,
  ...accountSecurityCases,
  ...hotPathCases,
  ...sessionWriteCases,
  ...clientCases,
  ...authorizationCases,
  ...passkeyCases,
  ...identityCases,
];

for (const kind of testDatabases()) {
  describe(`store conformance on ${kind}`, () => {
    if (kind === 'postgres' && pgAdminUrl() === undefined) {
      // Selected but not configured: fail loudly rather than pass without having run.
      test('PostgreSQL is configured', () => assert.fail(MISSING_PG_MESSAGE));
      return;
    }
    for (const c of cases) {
      test(c.name, () => withFreshStore(kind, c.run));
    }
  });
}

describe('openDatabase', () => {
  test('an unknown scheme is refused naming DATABASE_URL, without echoing the URL', async () => {
    await assert.rejects(openDatabase('mysql://root:hunter2@db/app'), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /DATABASE_URL/);
      assert.match(error.message, /mysql:/);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
    await assert.rejects(openDatabase('./data/portcullis.db'), /DATABASE_URL/);
    await assert.rejects(openDatabase('sqlite:'), /DATABASE_URL/);
  });

  test('sqlite: a relative path resolves from the working directory, parents created', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-open-'));
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      const db = await openDatabase('sqlite:nested/deeper/app.db');
      await db.close();
      assert.ok(existsSync(join(dir, 'nested', 'deeper', 'app.db')));
      const viaSlashes = await openDatabase(`sqlite://${join(dir, 'abs', 'app.db')}`);
      await viaSlashes.close();
      assert.ok(existsSync(join(dir, 'abs', 'app.db')));
    } finally {
      process.chdir(cwd);
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('sqlite: a file database runs in WAL mode with foreign keys and a busy timeout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-open-'));
    try {
      const db = await openDatabase(`sqlite:${join(dir, 'app.db')}`);
      try {
        assert.equal(db.dialect, 'sqlite');
        const pragma = async (name: string): Promise<unknown> => {
          const { rows } = await sql<Record<string, unknown>>`${sql.raw(`pragma ${name}`)}`.execute(
            db.kysely,
          );
          return Object.values(rows[0] ?? {})[0];
        };
        assert.equal(await pragma('journal_mode'), 'wal');
        assert.equal(await pragma('foreign_keys'), 1);
        assert.equal(await pragma('busy_timeout'), 5000);
        assert.equal(await pragma('synchronous'), 1); // NORMAL
      } finally {
        await db.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('sqlite::memory: migrates and stores', async () => {
    const db = await openDatabase('sqlite::memory:');
    try {
      assert.equal((await migrateToLatest(db)).applied.length, migrationNames.length);
      const store = createStore(db);
      const user = await store.users.create(newUser());
      assert.deepEqual(await store.users.findById(user.id), user);
    } finally {
      await db.close();
    }
  });

  if (testDatabases().includes('postgres')) {
    test('postgres: both URL schemes open, the dialect is reported', async () => {
      const target = await createTempPgDatabase();
      try {
        for (const url of [target.url, target.url.replace(/^postgres:/, 'postgresql:')]) {
          const db = await openDatabase(url);
          try {
            assert.equal(db.dialect, 'postgres');
            await createStore(db).ping();
          } finally {
            await db.close();
          }
        }
      } finally {
        await target.drop();
      }
    });
  }
});
