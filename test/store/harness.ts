// A fresh, migrated database per conformance case: a new SQLite file, or a new PostgreSQL database.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, openDatabase } from '../../src/store/database.ts';
import { createStore, type NewUser, type Store } from '../../src/store/index.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { createTempPgDatabase, type TestDatabase } from '../support/postgres.ts';

export interface Harness {
  kind: TestDatabase;
  url: string;
  db: Database;
  store: Store;
  /** What the first migrateToLatest on the empty database applied. */
  firstMigration: { applied: string[] };
}

export interface StoreCase {
  name: string;
  run(h: Harness): Promise<void>;
}

/** Opens a fresh database, runs the case, and always removes the database afterwards. */
export async function withFreshStore(
  kind: TestDatabase,
  run: (h: Harness) => Promise<void>,
): Promise<void> {
  const target = await freshTarget(kind);
  try {
    const db = await openDatabase(target.url);
    try {
      const firstMigration = await migrateToLatest(db);
      await run({ kind, url: target.url, db, store: createStore(db), firstMigration });
    } finally {
      await db.close();
    }
  } finally {
    await target.remove();
  }
}

async function freshTarget(kind: TestDatabase): Promise<{ url: string; remove(): Promise<void> }> {
  if (kind === 'postgres') {
    const pg = await createTempPgDatabase();
    return { url: pg.url, remove: () => pg.drop() };
  }
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-store-'));
  return {
    url: `sqlite:${join(dir, 'store.db')}`,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

// Largest ms timestamp a JS Date can hold; far beyond 32-bit, still exact in a double.
export const FAR_FUTURE = 8_640_000_000_000_000;
export const T0 = 1_764_000_000_000;

let counter = 0;

/** A unique, sortable id (tests pass their own ids, as the server passes UUIDv7 strings). */
export function nextId(prefix = 'id'): string {
  counter += 1;
  return `${prefix}-${String(counter).padStart(6, '0')}`;
}

export function newUser(overrides: Partial<NewUser> = {}): NewUser {
  const id = overrides.id ?? nextId('user');
  const name = overrides.username ?? `user_${id}`;
  const email = overrides.email ?? `${name}@example.com`;
  return {
    id,
    email,
    emailNorm: overrides.emailNorm ?? email.toLowerCase(),
    username: name,
    usernameNorm: overrides.usernameNorm ?? name.toLowerCase(),
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
    isActive: true,
    isSuperuser: false,
    isVerified: false,
    scopes: ['read', 'write'],
    createdAt: T0,
    ...overrides,
  };
}

export async function createUserWithSession(
  store: Store,
  sessionOverrides: { expiresAt?: number; lastUsedAt?: number } = {},
): Promise<{ userId: string; sessionId: string }> {
  const user = await store.users.create(newUser());
  const sessionId = nextId('session');
  await store.sessions.create({
    id: sessionId,
    userId: user.id,
    clientId: 'portcullis',
    scope: 'read write',
    createdAt: T0,
    lastUsedAt: sessionOverrides.lastUsedAt ?? T0,
    expiresAt: sessionOverrides.expiresAt ?? T0 + 86_400_000,
    userAgent: null,
    ip: null,
  });
  return { userId: user.id, sessionId };
}
