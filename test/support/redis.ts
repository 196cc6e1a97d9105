// Redis for the suites. Redis goes with PostgreSQL: the "postgres" choice of PORTCULLIS_TEST_DATABASES
// is the many-instance set-up, PostgreSQL + Redis, so selecting it selects Redis too.
//
//   PORTCULLIS_TEST_REDIS_URL  URL of a Redis server, e.g. $(bash .ci/redis.sh)
//
// Redis is never skipped silently: if it is selected and no URL is given, its tests fail.
import { randomBytes } from 'node:crypto';
import { type TestDatabase, testDatabases } from './postgres.ts';

export type TestKv = 'memory' | 'redis';

export const MISSING_REDIS_MESSAGE =
  'Redis tests need PORTCULLIS_TEST_REDIS_URL: run `export PORTCULLIS_TEST_REDIS_URL=$(bash .ci/redis.sh)` ' +
  '(or set PORTCULLIS_TEST_DATABASES=sqlite to run the single-instance half only)';

export function redisTestUrl(): string | undefined {
  const url = process.env.PORTCULLIS_TEST_REDIS_URL?.trim();
  return url === undefined || url === '' ? undefined : url;
}

export function requireRedisUrl(): string {
  const url = redisTestUrl();
  if (url === undefined) throw new Error(MISSING_REDIS_MESSAGE);
  return url;
}

/** A prefix no other test (or parallel test file) uses, so counters never meet. */
export function uniquePrefix(): string {
  return `portcullis-test:${randomBytes(6).toString('hex')}:`;
}

export function testKvs(): TestKv[] {
  return testDatabases().includes('postgres') ? ['memory', 'redis'] : ['memory'];
}

/** Server settings that put a server on the test Redis, under its own (or a shared) prefix. */
export function redisEnv(prefix = uniquePrefix()): Record<string, string> {
  return { REDIS_URL: requireRedisUrl(), REDIS_PREFIX: prefix };
}

export interface Backend {
  name: string;
  db: TestDatabase;
  /** Settings that select the kv: none (memory) on SQLite, Redis with PostgreSQL. */
  env(): Record<string, string>;
}

/** SQLite with the in-process kv, and PostgreSQL + Redis: the two set-ups the SPEC describes. */
export function testBackends(): Backend[] {
  return testDatabases().map((db) =>
    db === 'sqlite'
      ? { name: 'SQLite', db, env: () => ({}) }
      : { name: 'PostgreSQL + Redis', db, env: () => redisEnv() },
  );
}
