// The composition root: opens the database (migrated) unless a store is given, builds the services
// and their timers, and closes all of it in order. buildApp and the offline commands both start here.
import type { Services } from '../auth/services.ts';
import type { Config } from '../config/index.ts';
import { createMetrics, type Metrics } from '../metrics/index.ts';
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
  /** The Prometheus registry and the hooks that feed it (GET /metrics). */
  metrics: Metrics;
  /** Stops the timers, lets mail being composed finish, closes the kv, then the store if opened here. */
  close(): Promise<void>;
}

export async function openRuntime(config: Config, deps: RuntimeDeps = {}): Promise<Runtime> {
  const metrics = createMetrics();
  const owned = deps.store === undefined ? await openMigratedStore(config, metrics) : undefined;
  const store = deps.store ?? (owned as Store);
  let services: Services;
  try {
    services = await createServices(config, {
      store,
      clock: deps.clock,
      onKvError: deps.onKvError,
      metrics,
    });
  } catch (error) {
    await owned?.close();
    throw error;
  }
  return {
    services,
    metrics,
    async close() {
      // Mail being composed still reads the store: it finishes before the store closes.
      await services.mailer.close();
      await services.close();
      await owned?.close();
    },
  };
}

async function openMigratedStore(config: Config, metrics: Metrics): Promise<Store> {
  const database = await openDatabase(config.databaseUrl, {
    onQuery: (ms) => metrics.query(ms / 1000),
  });
  try {
    await migrateToLatest(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return createStore(database);
}
