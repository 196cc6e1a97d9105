// How long `portcullis user import` takes for 100,000 users (the issue asks for under a minute), on
// SQLite and, when PORTCULLIS_TEST_PG_URL is set, PostgreSQL. A benchmark, not a unit test:
//
//   PORTCULLIS_TEST_PG_URL=postgres://postgres@127.0.0.1:54329/postgres node bench/import-100k.ts [ROWS]
//
// The hashes are real ones from the passlib fixtures (bcrypt, argon2, scrypt, PBKDF2), cycled.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTempPgDatabase, pgAdminUrl } from '../test/support/postgres.ts';
import { cli } from '../test/support/process.ts';
import { testEnv } from '../test/support/server.ts';

const rows = Number(process.argv[2] ?? 100_000);
const fixture = (name: string) =>
  (
    JSON.parse(readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8')) as {
      cases: Array<{ hash: string }>;
    }
  ).cases.map((c) => c.hash);
const hashes = [...fixture('legacy-hashes.json'), ...fixture('import-hashes.json')];

const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-import-'));
const file = join(dir, 'users.csv');
const lines = ['email,username,hashed_password,is_active,is_superuser,is_verified'];
for (let i = 0; i < rows; i++) {
  const hash = hashes[i % hashes.length] as string;
  lines.push(`user${i}@example.com,user_${i},"${hash}",true,false,${i % 2 === 0}`);
}
writeFileSync(file, `${lines.join('\n')}\n`);

async function run(label: string, databaseUrl: string): Promise<void> {
  const env = testEnv(dir, databaseUrl);
  const started = performance.now();
  const result = await cli(['user', 'import', file], env);
  const seconds = (performance.now() - started) / 1000;
  if (result.code !== 0)
    throw new Error(`${label}: exit ${result.code}\n${result.stderr.slice(-2000)}`);
  console.log(
    `${label}: ${rows} users in ${seconds.toFixed(1)} s (${Math.round(rows / seconds)}/s, whole command) — ${result.stdout.trim()}`,
  );
}

try {
  await run('sqlite', `sqlite:${join(dir, 'bench.db')}`);
  if (pgAdminUrl() !== undefined) {
    const pg = await createTempPgDatabase();
    try {
      await run('postgres', pg.url);
    } finally {
      await pg.drop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
