// The audit log: an append-only hash chain, and the one row that holds its head.
// Frozen: never edit once landed; add a new migration instead.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema types.
type AnyDb = Kysely<any>;

/** prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('audit_log')
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    // No foreign keys: the history outlives the users it names.
    .addColumn('actor_id', 'text')
    .addColumn('subject_id', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_log_pkey', ['seq'])
    .execute();
  await db.schema
    .createIndex('audit_log_type_idx')
    .on('audit_log')
    .columns(['type', 'seq'])
    .execute();
  await db.schema
    .createIndex('audit_log_actor_idx')
    .on('audit_log')
    .columns(['actor_id', 'seq'])
    .execute();
  await db.schema
    .createIndex('audit_log_subject_idx')
    .on('audit_log')
    .columns(['subject_id', 'seq'])
    .execute();
  await db.schema.createIndex('audit_log_at_idx').on('audit_log').column('at').execute();

  // One row: the last seq and hash. Appending locks it, so concurrent writers chain one by one.
  await db.schema
    .createTable('audit_head')
    .addColumn('id', 'integer', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_head_pkey', ['id'])
    .execute();
  await db.insertInto('audit_head').values({ id: 1, seq: 0, hash: GENESIS_HASH }).execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('audit_head').execute();
  await db.schema.dropTable('audit_log').execute();
}
