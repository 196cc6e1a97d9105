// What the offline commands share: configuration, the migrated store and the rules, then cleanup.
import { createServices, type Services } from '../auth/services.ts';
import { type Config, loadConfig } from '../config/index.ts';
import { openDatabase } from '../store/database.ts';
import { createStore } from '../store/index.ts';
import { migrateToLatest } from '../store/migrate.ts';

export async function withServices<T>(fn: (s: Services, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await openDatabase(config.databaseUrl);
  const store = createStore(database);
  try {
    await migrateToLatest(database);
    const services = await createServices(config, { store });
    try {
      return await fn(services, config);
    } finally {
      await services.close();
    }
  } finally {
    await store.close();
  }
}

/** A password from the flag, else from standard input (first line), so it stays out of shell history. */
export async function readPassword(flag: string | undefined): Promise<string> {
  if (flag !== undefined) return flag;
  if (process.stdin.isTTY)
    throw new Error('give --password, or pipe the password on standard input');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (line === '') throw new Error('no password on standard input');
  return line;
}
