// What the fuzzer acts on: the real accounts and tokens its placeholders stand for, every route of
// the OpenAPI document, and a snapshot of the stored state that rejected requests must not change.

import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import type { Database } from '../../src/store/database.ts';
import { type Account, superuser } from '../support/fixtures.ts';
import { type Client, registerAndLogin } from '../support/http.ts';
import type { TestServer } from '../support/server.ts';

export interface World {
  actor: Account;
  admin: Account;
  target: Account;
  sessionId: string;
  /** A registered confidential client, for the /admin/clients/{client_id} routes. */
  clientId: string;
}

export async function newWorld(server: TestServer, api: Client): Promise<World> {
  const actor = await registerAndLogin(api, 'fzact');
  const target = await registerAndLogin(api, 'fztgt');
  const admin = await superuser(server, api);
  const sid = decodeJwt(actor.tokens.access_token).sid;
  const made = await api.post<{ client_id: string }>(
    '/admin/clients',
    {
      name: 'Fuzzed app',
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    { token: admin.tokens.access_token },
  );
  if (made.status !== 201) throw new Error(`client create failed: ${made.status} ${made.text}`);
  return {
    actor,
    admin,
    target,
    sessionId: typeof sid === 'string' ? sid : '',
    clientId: made.body.client_id,
  };
}

/** Placeholders the generators write and `resolve` replaces with the world's current values. */
export const PLACEHOLDERS = {
  '@@ACCESS@@': (w: World) => w.actor.tokens.access_token,
  '@@ADMIN@@': (w: World) => w.admin.tokens.access_token,
  '@@REFRESH@@': (w: World) => w.actor.tokens.refresh_token,
  '@@ACCESS_SIG@@': (w: World) => flipLast(w.actor.tokens.access_token),
  '@@ACCESS_CUT@@': (w: World) => w.actor.tokens.access_token.slice(0, -10),
  '@@ACCESS_NONE@@': (w: World) => algNone(w.admin.tokens.access_token),
  '@@REFRESH_SIG@@': (w: World) => flipLast(w.actor.tokens.refresh_token),
  '@@USER_ID@@': (w: World) => w.actor.id,
  '@@TARGET_ID@@': (w: World) => w.target.id,
  '@@ADMIN_ID@@': (w: World) => w.admin.id,
  '@@SESSION_ID@@': (w: World) => w.sessionId,
  '@@CLIENT_ID@@': (w: World) => w.clientId,
  '@@USERNAME@@': (w: World) => w.actor.username,
  '@@EMAIL@@': (w: World) => w.actor.email,
  '@@PASSWORD@@': (w: World) => w.actor.password,
} as const;

export type Placeholder = keyof typeof PLACEHOLDERS;

export function resolve(text: string, world: World): string {
  if (!text.includes('@@')) return text;
  let out = text;
  for (const [name, value] of Object.entries(PLACEHOLDERS)) {
    if (out.includes(name)) out = out.replaceAll(name, value(world));
  }
  return out;
}

function flipLast(token: string): string {
  const last = token.at(-1) === 'A' ? 'B' : 'A';
  return `${token.slice(0, -1)}${last}`;
}

function algNone(token: string): string {
  const [, payload = ''] = token.split('.');
  const header = Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url');
  return `${header}.${payload}.`;
}

export interface Route {
  method: string;
  /** The path with {params}. */
  path: string;
  /** Body member names the route documents. */
  fields: string[];
  query: string[];
}

interface OpenApi {
  paths: Record<
    string,
    Record<string, { requestBody?: unknown; parameters?: Array<{ in: string; name: string }> }>
  >;
}

/** Every route of the OpenAPI document, and the hidden ones (documents, Swagger UI). */
export function routesOf(document: unknown): Route[] {
  const routes: Route[] = [];
  for (const [path, methods] of Object.entries((document as OpenApi).paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const text = JSON.stringify(op.requestBody ?? {});
      const fields = [...text.matchAll(/"properties":\{([^}]*)/g)].flatMap((m) =>
        [...(m[1] ?? '').matchAll(/"([a-z_]+)":\{/g)].map((x) => x[1] as string),
      );
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      routes.push({ method: method.toUpperCase(), path, fields: [...new Set(fields)], query });
    }
  }
  for (const path of [
    '/openapi.json',
    '/docs',
    '/docs/json',
    '/docs/static/index.html',
    '/',
    '/no/such/route',
  ]) {
    routes.push({ method: 'GET', path, fields: [], query: [] });
  }
  return routes;
}

const TABLES = [
  'users',
  'sessions',
  'refresh_tokens',
  'revocations',
  'signing_keys',
  'clients',
] as const;

/** Every row of every table but the audit log, as one text; and the audit head. */
export async function snapshot(db: Database): Promise<{ state: string; auditSeq: number }> {
  const parts: string[] = [];
  for (const table of TABLES) {
    const { rows } = await sql<
      Record<string, unknown>
    >`select * from ${sql.table(table)} order by 1`.execute(db.kysely);
    for (const row of rows) parts.push(`${table}:${JSON.stringify(row)}`);
  }
  const head = await db.kysely.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
  return { state: parts.join('\n'), auditSeq: Number(head.seq) };
}

/** The types of the audit entries written after `seq`. */
export async function auditTypesAfter(db: Database, seq: number): Promise<string[]> {
  const rows = await db.kysely
    .selectFrom('audit_log')
    .select('type')
    .where('seq', '>', seq)
    .execute();
  return rows.map((r) => r.type);
}
