// SQLite through Node's built-in node:sqlite (no native addon), served to Kysely's SqliteDialect.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  type SqliteStatement,
} from 'kysely';

export const SQLITE_MEMORY = ':memory:';

/** Opens (creating it and its parent directory if missing) and configures a SQLite database. */
export function openSqliteFile(path: string): DatabaseSync {
  if (path !== SQLITE_MEMORY) mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  try {
    // Wait for another process's write lock instead of failing at once with SQLITE_BUSY.
    db.exec('PRAGMA busy_timeout = 5000');
    // Without this SQLite ignores FOREIGN KEY clauses, and deleting a user would leave its sessions.
    db.exec('PRAGMA foreign_keys = ON');
    if (path !== SQLITE_MEMORY) {
      // WAL: readers never block the writer, so several workers can share one file.
      db.exec('PRAGMA journal_mode = WAL');
    }
    // NORMAL is durable across application crashes in WAL mode and much faster than FULL.
    db.exec('PRAGMA synchronous = NORMAL');
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

// Kysely prepares every query it runs; SQLite's parse and plan cost as much as a primary-key read,
// so prepared statements are kept per SQL text (bounded: IN lists of many lengths make new texts).
const STATEMENT_CACHE_SIZE = 256;

/** Kysely's SqliteDatabase interface over a node:sqlite DatabaseSync. */
export function sqliteAdapter(db: DatabaseSync): SqliteDatabase {
  const prepared = new Map<string, SqliteStatement>();
  return {
    close(): void {
      prepared.clear();
      if (db.isOpen) db.close();
    },
    prepare(sql: string): SqliteStatement {
      const cached = prepared.get(sql);
      if (cached) return cached;
      const statement = wrapStatement(db.prepare(sql));
      // Oldest first out; Kysely runs one query at a time on this connection, so reuse is safe.
      if (prepared.size >= STATEMENT_CACHE_SIZE) {
        const oldest = prepared.keys().next();
        if (!oldest.done) prepared.delete(oldest.value);
      }
      prepared.set(sql, statement);
      return statement;
    },
  };
}

function wrapStatement(statement: StatementSync): SqliteStatement {
  const names = statement.columns().map((column) => column.name);
  // node:sqlite's row objects have a null prototype (pg's are plain) and are slow to copy; rows are
  // read as arrays and built as plain objects here: one shape for callers, a third of the cost.
  statement.setReturnArrays(true);
  const plain = (values: unknown): Record<string, unknown> => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) row[names[i] as string] = (values as unknown[])[i];
    return row;
  };
  return {
    // A statement that yields columns (SELECT, PRAGMA, … RETURNING) is read with all().
    reader: names.length > 0,
    all: (parameters) => statement.all(...toSqlite(parameters)).map(plain),
    run: (parameters) => statement.run(...toSqlite(parameters)),
    iterate: function* (parameters) {
      for (const row of statement.iterate(...toSqlite(parameters))) yield plain(row);
    },
  };
}

function toSqlite(parameters: ReadonlyArray<unknown>): SQLInputValue[] {
  return parameters.map((value): SQLInputValue => {
    if (value === undefined) return null;
    if (typeof value === 'boolean') return value ? 1 : 0;
    return value as SQLInputValue;
  });
}

/** SqliteDialect whose transactions start with BEGIN IMMEDIATE. */
export class NodeSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  // IMMEDIATE takes the write lock up front: a read-then-write transaction racing another
  // process then waits on busy_timeout instead of failing with SQLITE_BUSY mid-way.
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}
