// Queries of the hot paths (every request, every refresh), built and compiled once per dialect
// instead of on every call: Kysely's builder and compiler cost more than SQLite's indexed read.
//
// The query is built once with a unique placeholder value per named argument; each placeholder's
// position in the compiled parameters tells where that argument goes on later calls. Values the
// builder wrote itself (constants) keep their place. The SQL text is cached per dialect adapter,
// which a transaction shares with its parent, so transactions reuse it too.
import { type Compilable, CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import type { Schema } from './schema.ts';

interface Plan<N extends string> {
  sql: string;
  slots: Array<{ arg: N } | { value: unknown }>;
}

export type PreparedQuery<N extends string, R> = (
  db: Kysely<Schema>,
  args: Record<N, unknown>,
) => Promise<QueryResult<R>>;

/**
 * `build(db, p)` must use each `p[name]` exactly where that argument's value goes (the placeholders
 * are typed `never`, so they fit any column); it must not branch on them.
 */
export function prepare<N extends string, R>(
  names: readonly N[],
  build: (db: Kysely<Schema>, p: Record<N, never>) => Compilable<R>,
): PreparedQuery<N, R> {
  const plans = new WeakMap<object, Plan<N>>();
  const placeholder = (name: N): string => `\u0000prepared:${name}`;

  function plan(db: Kysely<Schema>): Plan<N> {
    const p = Object.fromEntries(names.map((n) => [n, placeholder(n)])) as Record<N, never>;
    const compiled = build(db, p).compile();
    const slots = compiled.parameters.map((value) => {
      const arg = names.find((n) => placeholder(n) === value);
      return arg === undefined ? { value } : { arg };
    });
    // Every argument must land somewhere, or the query would silently ignore a value.
    for (const n of names) {
      if (!slots.some((s) => 'arg' in s && s.arg === n))
        throw new Error(`prepare: argument ${n} is not used by the query`);
    }
    return { sql: compiled.sql, slots };
  }

  return async (db, args) => {
    const adapter = db.getExecutor().adapter;
    let found = plans.get(adapter);
    if (!found) {
      found = plan(db);
      plans.set(adapter, found);
    }
    const parameters = found.slots.map((s) => ('arg' in s ? args[s.arg] : s.value));
    return db.executeQuery<R>(CompiledQuery.raw(found.sql, parameters));
  };
}
