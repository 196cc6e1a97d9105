// At most one current (unretired) signing key per algorithm, enforced by the database: instances
// starting together on an empty table, or two rotations at once, can no longer leave two.
// Frozen: never edit once landed; add a new migration instead.
import { type Kysely, PostgresAdapter, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema types.
type AnyDb = Kysely<any>;

const isPostgres = (db: AnyDb): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: AnyDb): Promise<void> {
  const nowMs = isPostgres(db)
    ? sql`(extract(epoch from now()) * 1000)::bigint`
    : sql`cast((julianday('now') - 2440587.5) * 86400000 as integer)`;
  // Earlier versions let racing instances each insert one; the newest signed. The others are
  // retired now, so they keep verifying for a token lifetime from here.
  await sql`update signing_keys set retired_at = ${nowMs}
    where retired_at is null and exists (
      select 1 from signing_keys newer
      where newer.alg = signing_keys.alg and newer.retired_at is null
        and (newer.created_at > signing_keys.created_at
          or (newer.created_at = signing_keys.created_at and newer.kid > signing_keys.kid)))`.execute(
    db,
  );
  await sql`create unique index signing_keys_current_alg on signing_keys (alg) where retired_at is null`.execute(
    db,
  );
}

export async function down(db: AnyDb): Promise<void> {
  await sql`drop index signing_keys_current_alg`.execute(db);
}
