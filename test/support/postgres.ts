// Which databases the suites run on, and throwaway PostgreSQL databases for them.
//
//   PORTCULLIS_TEST_DATABASES  comma list of sqlite,postgres (default: both)
//   PORTCULLIS_TEST_PG_URL     admin URL of a PostgreSQL server, e.g. $(bash .ci/postgres.sh)
//
// PostgreSQL is never skipped silently: if it is selected and no URL is given, its tests fail.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type TestDatabase = 'sqlite' | 'postgres';

const KNOWN: readonly TestDatabase[] = ['sqlite', 'postgres'];

export function testDatabases(): Array<TestDatabase> {
  const raw = process.env.PORTCULLIS_TEST_DATABASES ?? 'sqlite,postgres';
  const names = raw
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  const chosen: TestDatabase[] = [];
  for (const name of names) {
    const known = KNOWN.find((k) => k === name);
    if (known === undefined) {
      throw new Error(
        `PORTCULLIS_TEST_DATABASES: unknown database "${name}" (use sqlite,postgres)`,
      );
    }
    if (!chosen.includes(known)) chosen.push(known);
  }
  if (chosen.length === 0)
    throw new Error('PORTCULLIS_TEST_DATABASES is empty (use sqlite,postgres)');
  return chosen;
}

export function pgAdminUrl(): string | undefined {
  const url = process.env.PORTCULLIS_TEST_PG_URL?.trim();
  return url === undefined || url === '' ? undefined : url;
}

export const MISSING_PG_MESSAGE =
  'PostgreSQL tests need PORTCULLIS_TEST_PG_URL: run `export PORTCULLIS_TEST_PG_URL=$(bash .ci/postgres.sh)` ' +
  '(or set PORTCULLIS_TEST_DATABASES=sqlite to run the SQLite half only)';

/** Creates an empty database with a random name on the admin server; drop() removes it. */
export async function createTempPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = pgAdminUrl();
  if (admin === undefined) throw new Error(MISSING_PG_MESSAGE);
  const name = `portcullis_test_${randomBytes(8).toString('hex')}`;
  await withAdmin(admin, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop(): Promise<void> {
      if (dropped) return;
      dropped = true;
      // FORCE ends any connection a failed test left open, so the drop cannot hang.
      await withAdmin(admin, (client) =>
        client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      );
    },
  };
}

async function withAdmin(
  url: string,
  work: (client: pg.Client) => Promise<unknown>,
): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
