// The composition root: opens the database (migrated) unless a store is given, builds the services
// and their timers, and closes all of it in order. buildApp and the offline commands both start here.
import type { Services } from '../auth/services.ts';
import type { Config } from '../config/index.ts';
import { openDatabase } from '../store/database.ts';
import { createStore, type Store } from '../store/index.ts';
import { migrateToLatest } from '../store/migrate.ts';
import { createServices } from './services.ts';

export interface RuntimeDeps {
  /** A store of the caller's (tests): used as is, not migrated, and left open on close. */
  store?: Store | undefined;
  /** Milliseconds since the epoch; tests inject their own. */
  clock?: (() => number) | undefined;
  /** Told about Redis connection trouble (failed commands are reported where they fail). */
  onKvError?: ((error: Error) => void) | undefined;
}

export interface Runtime {
  services: Services;
  /** Stops the timers, lets mail being composed finish, closes the kv, then the store if opened here. */
  close(): Promise<void>;
}

export async function openRuntime(config: Config, deps: RuntimeDeps = {}): Promise<Runtime> {
  const owned = deps.store === undefined ? await openMigratedStore(config) : undefined;
  const store = deps.store ?? (owned as Store);
  let services: Services;
  try {
    services = await createServices(config, {
      store,
      clock: deps.clock,
      onKvError: deps.onKvError,
    });
  } catch (error) {
    await owned?.close();
    throw error;
  }
  return {
    services,
    async close() {
      // Mail being composed still reads the store: it finishes before the store closes.
      await services.mailer.close();
      await services.close();
      await owned?.close();
    },
  };
}

async function openMigratedStore(config: Config): Promise<Store> {
  const database = await openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return createStore(database);
}
