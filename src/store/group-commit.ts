// Group commit on SQLite: the writes asked for in one turn of the event loop share one transaction.
//
// A SQLite commit costs far more than the statements before it: in WAL mode it appends every page
// the transaction changed to the log, and every thousand pages or so it copies the log back and
// syncs both files. Concurrent refreshes change the same index pages; committed together they
// write them once. Each unit of work runs under its own SAVEPOINT, so one that throws rolls back
// alone, exactly as its own transaction would have; every caller is answered after the commit
// that made its write durable (or with the error that failed it). A lone write waits for no one:
// the batch starts after the current I/O callbacks (setImmediate).
import { type Kysely, sql } from 'kysely';
import type { Schema } from './schema.ts';

const MAX_UNITS = 64;

export type Work<T> = (trx: Kysely<Schema>) => Promise<T>;
export type GroupCommit = <T>(work: Work<T>) => Promise<T>;

interface Unit {
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

const committers = new WeakMap<Kysely<Schema>, GroupCommit>();

/** The group committer of a (root, not transaction) Kysely instance on SQLite. */
export function groupCommit(db: Kysely<Schema>): GroupCommit {
  let found = committers.get(db);
  if (!found) {
    found = createGroupCommit(db);
    committers.set(db, found);
  }
  return found;
}

function createGroupCommit(db: Kysely<Schema>): GroupCommit {
  let pending: Unit[] | undefined;

  async function run(units: Unit[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await db.transaction().execute(async (trx) => {
        const done: Outcome[] = [];
        for (const unit of units) {
          await sql`savepoint unit`.execute(trx);
          try {
            const value = await unit.work(trx);
            await sql`release unit`.execute(trx);
            done.push({ ok: true, value });
          } catch (error) {
            // This unit's writes only; the others stay.
            await sql`rollback to unit`.execute(trx);
            await sql`release unit`.execute(trx);
            done.push({ ok: false, error });
          }
        }
        return done;
      });
    } catch (error) {
      // The transaction itself failed (BEGIN, a savepoint or COMMIT): nothing of it was written.
      for (const unit of units) unit.reject(error);
      return;
    }
    outcomes.forEach((outcome, i) => {
      const unit = units[i] as Unit;
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
  }

  return <T>(work: Work<T>) =>
    new Promise<T>((resolve, reject) => {
      if (!pending || pending.length >= MAX_UNITS) {
        const batch: Unit[] = [];
        pending = batch;
        setImmediate(() => {
          if (pending === batch) pending = undefined;
          void run(batch);
        });
      }
      pending.push({
        work: work as Work<unknown>,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
    });
}
