// The store: one repository per table over one Kysely instance (SQLite or PostgreSQL).
import { type Kysely, sql } from 'kysely';
import { type AccountTokenRepository, createAccountTokenRepository } from './account-tokens.ts';
import { type AuditRepository, createAuditRepository } from './audit-log.ts';
import {
  type AuthorizationCodeRepository,
  createAuthorizationCodeRepository,
} from './authorization-codes.ts';
import { type ClientRepository, createClientRepository } from './clients.ts';
import { type ConsentRepository, createConsentRepository } from './consents.ts';
import type { Database } from './database.ts';
import { createIdentityRepository, type IdentityRepository } from './identities.ts';
import { createMfaChallengeRepository, type MfaChallengeRepository } from './mfa-challenges.ts';
import {
  createPasskeyChallengeRepository,
  createPasskeyRepository,
  type PasskeyChallengeRepository,
  type PasskeyRepository,
} from './passkeys.ts';
import { createRefreshTokenRepository, type RefreshTokenRepository } from './refresh-tokens.ts';
import { createRevocationRepository, type RevocationRepository } from './revocations.ts';
import type { Schema } from './schema.ts';
import { createSessionWrites, type SessionWrites } from './session-writes.ts';
import { createSessionRepository, type SessionRepository } from './sessions.ts';
import { createSigningKeyRepository, type SigningKeyRepository } from './signing-keys.ts';
import type { SqliteHandle } from './sqlite-writes.ts';
import {
  createRecoveryCodeRepository,
  createTotpRepository,
  type RecoveryCodeRepository,
  type TotpRepository,
} from './totp.ts';
import { createUserRepository, type UserRepository } from './users.ts';

export * from './account-tokens.ts';
export * from './audit-log.ts';
export * from './authorization-codes.ts';
export * from './clients.ts';
export * from './consents.ts';
export { type Database, openDatabase } from './database.ts';
export { ConflictError, type ConflictField } from './errors.ts';
export * from './identities.ts';
export * from './mfa-challenges.ts';
export { migrateToLatest } from './migrate.ts';
export * from './passkeys.ts';
export * from './refresh-tokens.ts';
export * from './revocations.ts';
export * from './session-writes.ts';
export * from './sessions.ts';
export * from './signing-keys.ts';
export * from './totp.ts';
export * from './users.ts';

export interface Store {
  users: UserRepository;
  sessions: SessionRepository;
  refreshTokens: RefreshTokenRepository;
  signingKeys: SigningKeyRepository;
  revocations: RevocationRepository;
  audit: AuditRepository;
  accountTokens: AccountTokenRepository;
  totp: TotpRepository;
  recoveryCodes: RecoveryCodeRepository;
  mfaChallenges: MfaChallengeRepository;
  clients: ClientRepository;
  authorizationCodes: AuthorizationCodeRepository;
  consents: ConsentRepository;
  passkeys: PasskeyRepository;
  passkeyChallenges: PasskeyChallengeRepository;
  identities: IdentityRepository;
  /** The writes of sign-in and rotation that span tables (one statement each on PostgreSQL). */
  sessionWrites: SessionWrites;
  /**
   * Runs fn in one database transaction: committed if fn resolves, rolled back if it throws.
   * Inside fn use only `tx` (on SQLite the outer store waits for the transaction to end, so
   * awaiting it from inside fn would never finish). A nested tx.transaction joins the outer one.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createStore(db: Database): Store {
  return {
    ...repositories(db.kysely, db.sqlite),
    transaction: (fn) => db.kysely.transaction().execute((trx) => fn(transactionStore(trx))),
    ping: () => ping(db.kysely),
    close: () => db.close(),
  };
}

function transactionStore(trx: Kysely<Schema>): Store {
  const tx: Store = {
    ...repositories(trx),
    transaction: (fn) => fn(tx),
    ping: () => ping(trx),
    async close(): Promise<void> {
      throw new Error('store.close() called inside a transaction; close the outer store');
    },
  };
  return tx;
}

function repositories(
  db: Kysely<Schema>,
  sqlite?: SqliteHandle,
): Omit<Store, 'transaction' | 'ping' | 'close'> {
  return {
    users: createUserRepository(db),
    sessions: createSessionRepository(db),
    refreshTokens: createRefreshTokenRepository(db),
    signingKeys: createSigningKeyRepository(db),
    revocations: createRevocationRepository(db),
    audit: createAuditRepository(db),
    accountTokens: createAccountTokenRepository(db),
    totp: createTotpRepository(db),
    recoveryCodes: createRecoveryCodeRepository(db),
    mfaChallenges: createMfaChallengeRepository(db),
    clients: createClientRepository(db),
    authorizationCodes: createAuthorizationCodeRepository(db),
    consents: createConsentRepository(db),
    passkeys: createPasskeyRepository(db),
    passkeyChallenges: createPasskeyChallengeRepository(db),
    identities: createIdentityRepository(db),
    sessionWrites: createSessionWrites(db, sqlite),
  };
}

async function ping(db: Kysely<Schema>): Promise<void> {
  await sql`select 1`.execute(db);
}
