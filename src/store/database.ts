// Opens the one Kysely instance the store runs on, from DATABASE_URL.
import { resolve } from 'node:path';
import { Kysely, type LogEvent, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Schema } from './schema.ts';
import { NodeSqliteDialect, openSqliteFile, SQLITE_MEMORY, sqliteAdapter } from './sqlite.ts';
import type { SqliteHandle } from './sqlite-writes.ts';

export interface Database {
  kysely: Kysely<Schema>;
  dialect: 'sqlite' | 'postgres';
  /** SQLite: the file itself, for the writes that bypass Kysely (sqlite-writes.ts). */
  sqlite?: SqliteHandle;
  close(): Promise<void>;
}

const PG_INT8_OID = 20;

/** Whether a DATABASE_URL names PostgreSQL (`postgres://…` or `postgresql://…`). */
export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}

/**
 * `sqlite:<path>` (relative to the working directory, or absolute; `sqlite://<path>` also works),
 * `sqlite::memory:`, or `postgres://…` / `postgresql://…`.
 */
export interface DatabaseOptions {
  /** Told the duration of every query, in milliseconds (the metrics' histogram). */
  onQuery?: ((ms: number) => void) | undefined;
}

export async function openDatabase(url: string, options: DatabaseOptions = {}): Promise<Database> {
  if (url.startsWith('sqlite:')) return openSqlite(sqlitePath(url), options);
  if (isPostgresUrl(url)) return openPostgres(url, options);
  // Only the scheme is echoed: the rest of a database URL may hold a password.
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? '(none)';
  throw new Error(
    `DATABASE_URL: unsupported scheme ${scheme}; use sqlite:<path>, sqlite::memory: or postgres://…`,
  );
}

function sqlitePath(url: string): string {
  let rest = url.slice('sqlite:'.length);
  if (rest.startsWith('//')) rest = rest.slice(2);
  if (rest === '')
    throw new Error('DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/portcullis.db');
  return rest === SQLITE_MEMORY ? rest : resolve(rest);
}

function queryLog(options: DatabaseOptions): { log?: (event: LogEvent) => void } {
  const { onQuery } = options;
  if (!onQuery) return {};
  return { log: (event) => onQuery(event.queryDurationMillis) };
}

async function openSqlite(path: string, options: DatabaseOptions): Promise<Database> {
  const file = openSqliteFile(path);
  const adapter = sqliteAdapter(file);
  const kysely = new Kysely<Schema>({
    dialect: new NodeSqliteDialect({ database: adapter }),
    ...queryLog(options),
  });
  return {
    kysely,
    dialect: 'sqlite',
    sqlite: { db: file, onQuery: options.onQuery },
    async close(): Promise<void> {
      await kysely.destroy();
      // destroy() closes the file only if a query ran; close it ourselves otherwise.
      adapter.close();
    },
  };
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    // An unreachable server must not hold a request for the OS's TCP timeout (minutes): 503 in 5 s.
    connectionTimeoutMillis: 5_000,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        // Timestamps (ms) and counts are int8; they fit a JS number (< 2^53), so read them as one.
        oid === PG_INT8_OID && format !== 'binary'
          ? (value: string): number => Number(value)
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  // Nor one dropped while checked out between two statements (a transaction awaiting its next
  // step when the server shuts down): pg emits 'error' on the client itself, and a client without
  // a listener would throw. The statement in flight fails (503); the pool discards the client.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const kysely = new Kysely<Schema>({
    dialect: new PostgresDialect({ pool }),
    ...queryLog(options),
  });
  return {
    kysely,
    dialect: 'postgres',
    async close(): Promise<void> {
      await kysely.destroy();
      // As above: destroy() ends the pool only if a query ran.
      if (!pool.ended) await pool.end();
    },
  };
}
