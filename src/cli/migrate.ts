// `portcullis migrate`: apply pending migrations and report them.
import { loadConfig } from '../config/index.ts';
import { openDatabase } from '../store/database.ts';
import { migrateToLatest } from '../store/migrate.ts';

export async function migrate(_args: string[]): Promise<number> {
  const config = loadConfig();
  const database = await openDatabase(config.databaseUrl);
  try {
    const { applied } = await migrateToLatest(database);
    console.log(
      applied.length === 0 ? 'Database is up to date.' : `Applied: ${applied.join(', ')}`,
    );
    return 0;
  } finally {
    await database.close();
  }
}
