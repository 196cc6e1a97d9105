// A position for each revocation that the database orders by commit, so other instances poll
// "everything after what I have seen" instead of "everything newer than a wall-clock time" (a
// skewed clock, or a row committed seconds after its time was taken, was never seen).
// Frozen: never edit once landed; add a new migration instead.
import { type Kysely, PostgresAdapter, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema types.
type AnyDb = Kysely<any>;

const isPostgres = (db: AnyDb): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: AnyDb): Promise<void> {
  if (isPostgres(db)) {
    // The writing transaction's id, not a sequence: a sequence value taken by a slow transaction
    // commits after higher ones. Readers only trust ids below their snapshot's xmin as final.
    await sql`alter table revocations add column xid xid8 not null default pg_current_xact_id()`.execute(
      db,
    );
    await db.schema.createIndex('revocations_xid_idx').on('revocations').column('xid').execute();
    return;
  }
  // SQLite writers are serialised (the write lock is held from the first write to the commit), so
  // AUTOINCREMENT numbers commit in order and are never reused after a delete. A column of that
  // kind must be the primary key, so the table is rebuilt (DDL is transactional in SQLite).
  await db.transaction().execute(async (trx) => {
    await sql`create table revocations_new (
      seq integer primary key autoincrement,
      id text not null unique,
      kind text not null,
      subject text not null,
      at bigint not null,
      expires_at bigint not null
    )`.execute(trx);
    await sql`insert into revocations_new (id, kind, subject, at, expires_at)
      select id, kind, subject, at, expires_at from revocations order by at, id`.execute(trx);
    await sql`drop table revocations`.execute(trx);
    await sql`alter table revocations_new rename to revocations`.execute(trx);
    await sql`create index revocations_at_idx on revocations (at)`.execute(trx);
  });
}

export async function down(db: AnyDb): Promise<void> {
  if (isPostgres(db)) {
    await db.schema.dropIndex('revocations_xid_idx').execute();
    await db.schema.alterTable('revocations').dropColumn('xid').execute();
    return;
  }
  await db.transaction().execute(async (trx) => {
    await sql`create table revocations_old (
      id text not null,
      kind text not null,
      subject text not null,
      at bigint not null,
      expires_at bigint not null,
      constraint revocations_pkey primary key (id)
    )`.execute(trx);
    await sql`insert into revocations_old (id, kind, subject, at, expires_at)
      select id, kind, subject, at, expires_at from revocations`.execute(trx);
    await sql`drop table revocations`.execute(trx);
    await sql`alter table revocations_old rename to revocations`.execute(trx);
    await sql`create index revocations_at_idx on revocations (at)`.execute(trx);
  });
}
