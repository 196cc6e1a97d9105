// The users table: accounts, their normalised login names, roles and scopes.
import {
  type Insertable,
  type Kysely,
  PostgresAdapter,
  type Selectable,
  sql,
  type Updateable,
} from 'kysely';
import { batchedLookup } from './batch.ts';
import { mapConflict } from './errors.ts';
import { prepare } from './prepared.ts';
import type { Schema, UsersTable } from './schema.ts';
import { hasNul } from './text.ts';

export interface User {
  id: string;
  email: string;
  username: string;
  passwordHash: string;
  isActive: boolean;
  isSuperuser: boolean;
  isVerified: boolean;
  scopes: string[];
  createdAt: number;
  updatedAt: number;
  /** Bumped by every change of credentials or rights; a sign-in that saw an older one is void. */
  securityVersion: number;
  /** False for an account made through an identity provider that has set no password yet. */
  hasPassword: boolean;
}

export interface NewUser extends Omit<User, 'updatedAt' | 'securityVersion' | 'hasPassword'> {
  emailNorm: string;
  usernameNorm: string;
  /** Default true; false with an empty passwordHash for an account made through a provider. */
  hasPassword?: boolean;
}

export type UserPatch = Partial<
  Pick<
    User,
    | 'email'
    | 'username'
    | 'passwordHash'
    | 'hasPassword'
    | 'isActive'
    | 'isSuperuser'
    | 'isVerified'
    | 'scopes'
  >
> & {
  emailNorm?: string;
  usernameNorm?: string;
  /** The change voids sign-ins in flight (a new password, deactivation, a lost right). */
  bumpSecurityVersion?: true;
};

/** Values the row must still hold for an update to apply (a compare-and-set). */
export type UserExpectation = Partial<Pick<User, 'email' | 'passwordHash' | 'securityVersion'>>;

export interface UserListOptions {
  limit: number;
  after?: string;
  q?: string;
}

export interface UserRepository {
  create(user: NewUser): Promise<User>;
  /** Inserts many users; one that would take a used email, username or id is skipped. Returns the
   * ids inserted. */
  insertMany(users: readonly NewUser[]): Promise<Set<string>>;
  findById(id: string): Promise<User | undefined>;
  findByUsernameNorm(norm: string): Promise<User | undefined>;
  findByEmailNorm(norm: string): Promise<User | undefined>;
  /** The updated user; undefined if there is no such user or it no longer holds `expected`. */
  update(
    id: string,
    patch: UserPatch,
    now: number,
    expected?: UserExpectation,
  ): Promise<User | undefined>;
  /**
   * True if the user is active and still at `securityVersion`. Inside a transaction it holds the
   * row (a write lock), so a concurrent change waits for the transaction or is seen by it.
   */
  holdSecurityVersion(id: string, securityVersion: number): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  list(opts: UserListOptions): Promise<User[]>;
  count(): Promise<number>;
}

// GET /users/me reads a user by id on every request; every login reads one by name and every
// registration inserts one (see prepared.ts).
const byId = prepare(['id'], (db, p) => db.selectFrom('users').selectAll().where('id', '=', p.id));
const byIds = prepare(['ids'], (db, p) =>
  db.selectFrom('users').selectAll().where('id', '=', sql<string>`any(${p.ids})`),
);
// Every sign-in and code exchange holds the user's row (see holdSecurityVersion).
const holdVersion = prepare(['id', 'securityVersion'], (db, p) =>
  db
    .updateTable('users')
    .set((eb) => ({ security_version: eb.ref('security_version') }))
    .where('id', '=', p.id)
    .where('security_version', '=', p.securityVersion)
    .where('is_active', '=', 1),
);
const byUsernameNorm = prepare(['value'], (db, p) =>
  db.selectFrom('users').selectAll().where('username_norm', '=', p.value),
);
const byEmailNorm = prepare(['value'], (db, p) =>
  db.selectFrom('users').selectAll().where('email_norm', '=', p.value),
);
// The columns toRow fills (every column of the table, as its Required<Insertable> type demands).
export const ROW_COLUMNS = [
  'id',
  'email',
  'email_norm',
  'username',
  'username_norm',
  'password_hash',
  'is_active',
  'is_superuser',
  'is_verified',
  'scopes',
  'created_at',
  'updated_at',
  'security_version',
  'has_password',
] as const satisfies ReadonlyArray<keyof UsersTable>;
const insertUser = prepare(ROW_COLUMNS, (db, p) => db.insertInto('users').values(p).returningAll());

export function createUserRepository(db: Kysely<Schema>): UserRepository {
  const one = async (id: string) => (await byId(db, { id })).rows[0];
  // Outside a transaction, reads by id made in one turn of the event loop share a query
  // (batch.ts); inside one, they run at once on the transaction's connection.
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const lookup = db.isTransaction
    ? one
    : batchedLookup(
        async (ids) => {
          if (ids.length === 1) return (await byId(db, { id: ids[0] })).rows;
          // PostgreSQL: one array parameter, so one query text (compiled once) for every batch.
          if (postgres) return (await byIds(db, { ids })).rows;
          return db.selectFrom('users').selectAll().where('id', 'in', ids).execute();
        },
        (row) => row.id,
      );
  const findById = async (id: string): Promise<User | undefined> => {
    if (hasNul(id)) return undefined;
    const row = await lookup(id);
    // A User of its own for every caller: rows may be shared by a batch.
    return row && toUser(row);
  };
  const findBy = async (query: typeof byUsernameNorm, value: string): Promise<User | undefined> => {
    if (hasNul(value)) return undefined;
    const row = (await query(db, { value })).rows[0];
    return row && toUser(row);
  };

  return {
    async create(user: NewUser): Promise<User> {
      const row = (await mapConflict(() => insertUser(db, toRow(user)))).rows[0];
      if (!row) throw new Error('INSERT … RETURNING returned no row');
      return toUser(row);
    },

    async insertMany(users: readonly NewUser[]): Promise<Set<string>> {
      if (users.length === 0) return new Set();
      const rows = await db
        .insertInto('users')
        .values(users.map(toRow))
        // Any unique key: the caller reports the rows not returned as taken.
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .execute();
      return new Set(rows.map((r) => r.id));
    },

    findById,
    findByUsernameNorm: (norm) => findBy(byUsernameNorm, norm),
    findByEmailNorm: (norm) => findBy(byEmailNorm, norm),

    async update(
      id: string,
      patch: UserPatch,
      now: number,
      expected: UserExpectation = {},
    ): Promise<User | undefined> {
      if (hasNul(id, expected.email, expected.passwordHash)) return undefined;
      let query = db
        .updateTable('users')
        .set((eb) => ({
          ...toColumns(patch),
          updated_at: now,
          ...(patch.bumpSecurityVersion && {
            security_version: eb('security_version', '+', 1),
          }),
        }))
        .where('id', '=', id);
      // In the statement itself: a change that landed since the caller read the row makes it miss.
      if (expected.email !== undefined) query = query.where('email', '=', expected.email);
      if (expected.passwordHash !== undefined)
        query = query.where('password_hash', '=', expected.passwordHash);
      if (expected.securityVersion !== undefined)
        query = query.where('security_version', '=', expected.securityVersion);
      const row = await mapConflict(() => query.returningAll().executeTakeFirst());
      return row && toUser(row);
    },

    async holdSecurityVersion(id: string, securityVersion: number): Promise<boolean> {
      // A write that changes nothing: it takes the row lock a change of the user also needs.
      const result = await holdVersion(db, { id, securityVersion });
      return result.numAffectedRows === 1n;
    },

    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async list({ limit, after, q }: UserListOptions): Promise<User[]> {
      if (hasNul(after, q)) return [];
      let query = db.selectFrom('users').selectAll().orderBy('id', 'asc').limit(limit);
      if (after !== undefined) query = query.where('id', '>', after);
      if (q !== undefined && q !== '') {
        // User input is a literal substring: % and _ must not act as wildcards.
        const pattern = `%${escapeLike(q.toLowerCase())}%`;
        query = query.where((eb) =>
          eb.or([
            sql<boolean>`lower(username_norm) like ${pattern} escape '\\'`,
            sql<boolean>`lower(email_norm) like ${pattern} escape '\\'`,
          ]),
        );
      }
      return (await query.execute()).map(toUser);
    },

    async count(): Promise<number> {
      const row = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return row.n;
    },
  };
}

function toRow(user: NewUser): Required<Insertable<UsersTable>> {
  return {
    id: user.id,
    email: user.email,
    email_norm: user.emailNorm,
    username: user.username,
    username_norm: user.usernameNorm,
    password_hash: user.passwordHash,
    is_active: flag(user.isActive),
    is_superuser: flag(user.isSuperuser),
    is_verified: flag(user.isVerified),
    scopes: joinScopes(user.scopes),
    created_at: user.createdAt,
    updated_at: user.createdAt,
    security_version: 0,
    has_password: flag(user.hasPassword ?? true),
  };
}

function toColumns(patch: UserPatch): Updateable<UsersTable> {
  const columns: Updateable<UsersTable> = {};
  if (patch.email !== undefined) columns.email = patch.email;
  if (patch.emailNorm !== undefined) columns.email_norm = patch.emailNorm;
  if (patch.username !== undefined) columns.username = patch.username;
  if (patch.usernameNorm !== undefined) columns.username_norm = patch.usernameNorm;
  if (patch.passwordHash !== undefined) columns.password_hash = patch.passwordHash;
  if (patch.hasPassword !== undefined) columns.has_password = flag(patch.hasPassword);
  if (patch.isActive !== undefined) columns.is_active = flag(patch.isActive);
  if (patch.isSuperuser !== undefined) columns.is_superuser = flag(patch.isSuperuser);
  if (patch.isVerified !== undefined) columns.is_verified = flag(patch.isVerified);
  if (patch.scopes !== undefined) columns.scopes = joinScopes(patch.scopes);
  return columns;
}

export function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    passwordHash: row.password_hash,
    isActive: row.is_active === 1,
    isSuperuser: row.is_superuser === 1,
    isVerified: row.is_verified === 1,
    scopes: row.scopes === '' ? [] : row.scopes.split(' '),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    securityVersion: Number(row.security_version),
    hasPassword: Number(row.has_password) === 1,
  };
}

function flag(value: boolean): number {
  return value ? 1 : 0;
}

function joinScopes(scopes: readonly string[]): string {
  for (const scope of scopes) {
    // A space (or an empty scope) inside one scope would silently change the set read back.
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)) {
      throw new TypeError(`invalid scope ${JSON.stringify(scope)}: RFC 6749 scope-token expected`);
    }
  }
  return scopes.join(' ');
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
