// The clients table: the OAuth client registry (redirect URIs, grants, scopes, how a client
// authenticates, and the hash of a confidential client's secret).
import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import { mapConflict } from './errors.ts';
import { prepare } from './prepared.ts';
import type { ClientsTable, Schema } from './schema.ts';
import { hasNul } from './text.ts';

export interface Client {
  clientId: string;
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  scope: string[];
  tokenEndpointAuthMethod: string;
  idTokenSignedResponseAlg: string;
  firstParty: boolean;
  /** Null for a public client. */
  secretHash: string | null;
  createdAt: number;
  updatedAt: number;
}

export type NewClient = Omit<Client, 'updatedAt'>;

export type ClientPatch = Partial<
  Pick<
    Client,
    | 'name'
    | 'redirectUris'
    | 'postLogoutRedirectUris'
    | 'grantTypes'
    | 'scope'
    | 'tokenEndpointAuthMethod'
    | 'idTokenSignedResponseAlg'
    | 'firstParty'
    | 'secretHash'
  >
>;

export interface ClientListOptions {
  limit: number;
  /** The client_id of the last client of the previous page. */
  after?: string;
}

export interface ClientRepository {
  create(client: NewClient): Promise<Client>;
  findById(clientId: string): Promise<Client | undefined>;
  /** In client_id order. */
  list(opts: ClientListOptions): Promise<Client[]>;
  /** The updated client; undefined if there is none. */
  update(clientId: string, patch: ClientPatch, now: number): Promise<Client | undefined>;
  setSecretHash(clientId: string, secretHash: string | null, now: number): Promise<boolean>;
  delete(clientId: string): Promise<boolean>;
}

// Every code exchange and client-authenticated grant reads its client (see prepared.ts).
const clientById = prepare(['clientId'], (db, p) =>
  db.selectFrom('clients').selectAll().where('client_id', '=', p.clientId),
);

export function createClientRepository(db: Kysely<Schema>): ClientRepository {
  return {
    async create(client: NewClient): Promise<Client> {
      const row = await mapConflict(() =>
        db.insertInto('clients').values(toRow(client)).returningAll().executeTakeFirst(),
      );
      if (!row) throw new Error('INSERT … RETURNING returned no row');
      return toClient(row);
    },

    async findById(clientId: string): Promise<Client | undefined> {
      if (hasNul(clientId)) return undefined;
      const row = (await clientById(db, { clientId })).rows[0];
      return row && toClient(row);
    },

    async list({ limit, after }: ClientListOptions): Promise<Client[]> {
      if (hasNul(after)) return [];
      let query = db.selectFrom('clients').selectAll().orderBy('client_id', 'asc').limit(limit);
      if (after !== undefined) query = query.where('client_id', '>', after);
      return (await query.execute()).map(toClient);
    },

    async update(clientId: string, patch: ClientPatch, now: number): Promise<Client | undefined> {
      if (hasNul(clientId)) return undefined;
      const row = await db
        .updateTable('clients')
        .set({ ...toColumns(patch), updated_at: now })
        .where('client_id', '=', clientId)
        .returningAll()
        .executeTakeFirst();
      return row && toClient(row);
    },

    async setSecretHash(
      clientId: string,
      secretHash: string | null,
      now: number,
    ): Promise<boolean> {
      if (hasNul(clientId)) return false;
      const result = await db
        .updateTable('clients')
        .set({ secret_hash: secretHash, updated_at: now })
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async delete(clientId: string): Promise<boolean> {
      if (hasNul(clientId)) return false;
      const result = await db
        .deleteFrom('clients')
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

/** Every column of the table (the joined reads of authorization-codes.ts). */
export const CLIENT_COLUMNS = [
  'client_id',
  'name',
  'redirect_uris',
  'post_logout_redirect_uris',
  'grant_types',
  'scope',
  'token_endpoint_auth_method',
  'id_token_signed_response_alg',
  'first_party',
  'secret_hash',
  'created_at',
  'updated_at',
] as const satisfies ReadonlyArray<keyof ClientsTable>;

function toRow(client: NewClient): Required<Insertable<ClientsTable>> {
  return {
    client_id: client.clientId,
    name: client.name,
    redirect_uris: JSON.stringify(client.redirectUris),
    post_logout_redirect_uris: JSON.stringify(client.postLogoutRedirectUris),
    grant_types: joinWords(client.grantTypes),
    scope: joinWords(client.scope),
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    first_party: client.firstParty ? 1 : 0,
    secret_hash: client.secretHash,
    created_at: client.createdAt,
    updated_at: client.createdAt,
  };
}

function toColumns(patch: ClientPatch): Updateable<ClientsTable> {
  const columns: Updateable<ClientsTable> = {};
  if (patch.name !== undefined) columns.name = patch.name;
  if (patch.redirectUris !== undefined) columns.redirect_uris = JSON.stringify(patch.redirectUris);
  if (patch.postLogoutRedirectUris !== undefined)
    columns.post_logout_redirect_uris = JSON.stringify(patch.postLogoutRedirectUris);
  if (patch.grantTypes !== undefined) columns.grant_types = joinWords(patch.grantTypes);
  if (patch.scope !== undefined) columns.scope = joinWords(patch.scope);
  if (patch.tokenEndpointAuthMethod !== undefined)
    columns.token_endpoint_auth_method = patch.tokenEndpointAuthMethod;
  if (patch.idTokenSignedResponseAlg !== undefined)
    columns.id_token_signed_response_alg = patch.idTokenSignedResponseAlg;
  if (patch.firstParty !== undefined) columns.first_party = patch.firstParty ? 1 : 0;
  if (patch.secretHash !== undefined) columns.secret_hash = patch.secretHash;
  return columns;
}

export function toClient(row: Selectable<ClientsTable>): Client {
  return {
    clientId: row.client_id,
    name: row.name,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
    grantTypes: splitWords(row.grant_types),
    scope: splitWords(row.scope),
    tokenEndpointAuthMethod: row.token_endpoint_auth_method,
    idTokenSignedResponseAlg: row.id_token_signed_response_alg,
    firstParty: row.first_party === 1,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function joinWords(words: readonly string[]): string {
  for (const word of words) {
    // A space (or an empty word) inside one item would silently change the list read back.
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(word)) {
      throw new TypeError(
        `invalid list item ${JSON.stringify(word)}: RFC 6749 scope-token expected`,
      );
    }
  }
  return words.join(' ');
}

function splitWords(text: string): string[] {
  return text === '' ? [] : text.split(' ');
}
