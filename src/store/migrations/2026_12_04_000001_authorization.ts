// The authorization code flow: codes (stored hashed, single use, each bound to everything the
// exchange must match), the consents users gave to apps, and each session's time of sign-in.
// Frozen: never edit once landed; add a new migration instead.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema types.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('authorization_codes')
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) =>
      c.notNull().references('clients.client_id').onDelete('cascade'),
    )
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // Null when /authorize was sent none (the client's only URI was used).
    .addColumn('redirect_uri', 'text')
    .addColumn('code_challenge', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text')
    .addColumn('auth_time', 'bigint', (c) => c.notNull())
    // The user's security_version at sign-in: a password change or lost right since voids the code.
    .addColumn('security_version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    // The session its exchange started: a replay of the code ends it (RFC 6749 §4.1.2).
    .addColumn('session_id', 'text')
    .addPrimaryKeyConstraint('authorization_codes_pkey', ['code_hash'])
    .execute();
  await db.schema
    .createIndex('authorization_codes_expires_at_idx')
    .on('authorization_codes')
    .column('expires_at')
    .execute();
  await db.schema
    .createTable('consents')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('client_id', 'text', (c) =>
      c.notNull().references('clients.client_id').onDelete('cascade'),
    )
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('consents_pkey', ['user_id', 'client_id'])
    .execute();
  // When the user last proved who they are (the ID token's auth_time); null: created_at.
  await db.schema.alterTable('sessions').addColumn('auth_time', 'bigint').execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('auth_time').execute();
  await db.schema.dropTable('consents').execute();
  await db.schema.dropTable('authorization_codes').execute();
}
