// Brings the schema up to date; safe to run on every start and from several instances at once
// (Kysely's Migrator takes a lock table / advisory lock).
import { Migrator } from 'kysely/migration';
import type { Database } from './database.ts';
import { migrationProvider } from './migrations/index.ts';

export async function migrateToLatest(db: Database): Promise<{ applied: string[] }> {
  // Migrations of parallel branches land out of name order: a database that ran a later one first
  // still gets the earlier one, instead of refusing to start.
  const migrator = new Migrator({
    db: db.kysely,
    provider: migrationProvider,
    allowUnorderedMigrations: true,
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? '(migrator)';
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`migration ${failed} failed: ${reason}`, { cause: error });
  }
  return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
