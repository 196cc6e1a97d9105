// Sign-in with other identity providers (SPEC §9): the identities linked to each account, and
// accounts made through a provider that have no password (has_password = 0, password_hash '').
// Frozen: never edit once landed; add a new migration instead.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema types.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('identities')
    // The name in IDENTITY_PROVIDERS and the provider's `sub` (GitHub: the numeric user id).
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // The address the provider gave at the last sign-in (shown on /account; never used to link).
    .addColumn('email', 'text')
    .addColumn('linked_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    // One account per identity: a second link of the same (provider, sub) fails.
    .addPrimaryKeyConstraint('identities_pkey', ['provider', 'subject'])
    .execute();
  await db.schema
    .createIndex('identities_user_id_idx')
    .on('identities')
    .column('user_id')
    .execute();
  // 0: the account was made through a provider and has no password yet (password_hash is '').
  await db.schema
    .alterTable('users')
    .addColumn('has_password', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('users').dropColumn('has_password').execute();
  await db.schema.dropTable('identities').execute();
}
