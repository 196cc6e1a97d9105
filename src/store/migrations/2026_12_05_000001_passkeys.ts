// Passkeys (WebAuthn): each user's registered credentials, and the short-lived challenges of the
// registration and sign-in ceremonies, each bound to the browser that asked for it.
// Frozen: never edit once landed; add a new migration instead.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema types.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('webauthn_credentials')
    // Our own id (the one of /users/me/passkeys/{id}); the authenticator's id is credential_id.
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // base64url, as the browser reports it; unique across users: one authenticator key, one account.
    .addColumn('credential_id', 'text', (c) => c.notNull().unique())
    // The COSE public key, base64url; read only by @simplewebauthn/server.
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('counter', 'bigint', (c) => c.notNull())
    // JSON array of the transports the browser reported (hints for the next ceremony).
    .addColumn('transports', 'text', (c) => c.notNull())
    .addColumn('device_type', 'text', (c) => c.notNull())
    .addColumn('backed_up', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addPrimaryKeyConstraint('webauthn_credentials_pkey', ['id'])
    .execute();
  await db.schema
    .createIndex('webauthn_credentials_user_id_idx')
    .on('webauthn_credentials')
    .column('user_id')
    .execute();

  await db.schema
    .createTable('webauthn_challenges')
    // The challenge itself (base64url, 32 random bytes): what the authenticator signs.
    .addColumn('challenge', 'text', (c) => c.notNull())
    // Keyed hash of the random id in the asking browser's HttpOnly cookie.
    .addColumn('binding_hash', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    // The registering user; null for a sign-in.
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('webauthn_challenges_pkey', ['challenge'])
    .execute();
  await db.schema
    .createIndex('webauthn_challenges_binding_hash_idx')
    .on('webauthn_challenges')
    .column('binding_hash')
    .execute();
  await db.schema
    .createIndex('webauthn_challenges_expires_at_idx')
    .on('webauthn_challenges')
    .column('expires_at')
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('webauthn_challenges').execute();
  await db.schema.dropTable('webauthn_credentials').execute();
}
