// A version per user that every change of credentials or rights bumps, so a sign-in that read the
// user before such a change cannot create its session after it; the mfa challenge remembers the
// version its password step saw. Frozen: never edit once landed; add a new migration instead.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema types.
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('security_version', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('mfa_challenges')
    .addColumn('security_version', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('mfa_challenges').dropColumn('security_version').execute();
  await db.schema.alterTable('users').dropColumn('security_version').execute();
}
