// A real Portcullis server on a real database, listening on a loopback port, for black-box tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Config, loadConfig } from '../../src/config/index.ts';
import { type AppDeps, buildApp } from '../../src/server/app.ts';
import { createTempPgDatabase, type TestDatabase } from './postgres.ts';

export interface TestClock {
  (): number;
  advance(ms: number): void;
  set(ms: number): void;
}

export function testClock(start = Date.now()): TestClock {
  let now = start;
  const clock = (() => now) as TestClock;
  clock.advance = (ms) => {
    now += ms;
  };
  clock.set = (ms) => {
    now = ms;
  };
  return clock;
}

export interface TestServer {
  url: string;
  app: FastifyInstance;
  config: Config;
  clock: TestClock;
  dataDir: string;
  databaseUrl: string;
  close(): Promise<void>;
}

export interface StartOptions {
  db?: TestDatabase;
  env?: Record<string, string>;
  clock?: TestClock;
  /** A logger for the app (default: none), e.g. `{ level: 'info', stream }` to read the logs. */
  logger?: AppDeps['logger'];
  /** Reuse a database (and DATA_DIR) of an earlier server, e.g. to restart. */
  reuse?: { dataDir: string; databaseUrl: string };
  /** Listen on this port (default: any free one). */
  port?: number;
}

/** Settings for tests: fast (test-only) password hashing, quiet logs, a temporary DATA_DIR. */
export function testEnv(
  dataDir: string,
  databaseUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    PORT: '0',
    ISSUER: 'http://localhost:8000',
    LOG_LEVEL: 'silent',
    PASSWORD_HASH_MEMORY_KIB: '1024',
    PASSWORD_HASH_TIME_COST: '1',
    // Generous: suites that log in many times must not trip the protections; their own tests
    // (test/http/lockout.test.ts, rate-limits.test.ts) set tight values.
    LOCKOUT_THRESHOLD: '1000',
    RATE_LIMIT_TOKEN: '100000/1m',
    RATE_LIMIT_LOGIN: '100000/1m',
    RATE_LIMIT_REFRESH: '100000/1m',
    RATE_LIMIT_REGISTER: '100000/1m',
    RATE_LIMIT_PASSWORD: '100000/1m',
    RATE_LIMIT_TOTP: '100000/1m',
    RATE_LIMIT_PASSKEY: '100000/1m',
    ...extra,
  };
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const db = options.db ?? 'sqlite';
  const dataDir = options.reuse?.dataDir ?? mkdtempSync(join(tmpdir(), 'portcullis-test-'));
  let drop: () => Promise<void> = async () => {};
  let databaseUrl = options.reuse?.databaseUrl;
  if (!databaseUrl) {
    if (db === 'postgres') {
      const pg = await createTempPgDatabase();
      databaseUrl = pg.url;
      drop = pg.drop;
    } else {
      databaseUrl = `sqlite:${join(dataDir, 'portcullis.db')}`;
    }
  }
  const clock = options.clock ?? testClock();
  const config = loadConfig({ env: testEnv(dataDir, databaseUrl, options.env), envFileDir: null });
  const app = await buildApp(config, { clock, logger: options.logger ?? false });
  const address = await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const owned = !options.reuse;
  return {
    url: address,
    app,
    config,
    clock,
    dataDir,
    databaseUrl,
    async close() {
      await app.close();
      if (owned) {
        await drop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
