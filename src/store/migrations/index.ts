// Every migration, in order. Static imports (not a folder scan) so a bundled build keeps them.
import type { Migration, MigrationProvider } from 'kysely/migration';
import * as initial from './2026_11_23_000001_initial.ts';
import * as audit from './2026_11_23_000002_audit.ts';
import * as accountTokens from './2026_11_23_000003_account_tokens.ts';
import * as totp from './2026_11_23_000004_totp.ts';
import * as securityVersion from './2026_11_24_000001_security_version.ts';
import * as revocationCursor from './2026_11_24_000002_revocation_cursor.ts';
import * as clients from './2026_12_03_000001_clients.ts';
import * as oneCurrentSigningKey from './2026_12_03_000002_one_current_signing_key.ts';
import * as authorization from './2026_12_04_000001_authorization.ts';
import * as passkeys from './2026_12_05_000001_passkeys.ts';
import * as identities from './2026_12_06_000001_identities.ts';

const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '2026_11_23_000001_initial': initial,
  '2026_11_23_000002_audit': audit,
  '2026_11_23_000003_account_tokens': accountTokens,
  '2026_11_23_000004_totp': totp,
  '2026_11_24_000001_security_version': securityVersion,
  '2026_11_24_000002_revocation_cursor': revocationCursor,
  '2026_12_03_000001_clients': clients,
  '2026_12_03_000002_one_current_signing_key': oneCurrentSigningKey,
  '2026_12_04_000001_authorization': authorization,
  '2026_12_05_000001_passkeys': passkeys,
  '2026_12_06_000001_identities': identities,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return { ...MIGRATIONS };
  },
};

export const migrationNames: readonly string[] = Object.keys(MIGRATIONS);
