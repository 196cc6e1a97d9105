// The accounts a bad-input case acts on, and the store snapshot that proves the case changed nothing.
import { isDeepStrictEqual } from 'node:util';
import { decodeJwt } from 'jose';
import { register } from '../../../src/auth/accounts/index.ts';
import type { Client as OAuthClient, Session, User } from '../../../src/store/index.ts';
import {
  type Client,
  login,
  newIdentity,
  registerAndLogin,
  type TokenPair,
} from '../../support/http.ts';
import type { TestServer } from '../../support/server.ts';

export interface Account {
  id: string;
  username: string;
  email: string;
  password: string;
  tokens: TokenPair;
}

export interface Ctx {
  /** The normal user who calls the user endpoints (with tokens.access_token). */
  actor: Account;
  /** A second session of the actor: the token that /refresh, /revoke and /introspect bodies name. */
  spare: TokenPair;
  spareSid: string;
  /** The user the admin endpoints act on. */
  target: Account;
  /** The superuser of the whole run (admin endpoints and /introspect). */
  admin: Account;
  /** A confidential client the /admin/clients/{client_id} endpoints act on. */
  clientId: string;
}

/** A superuser made the way an operator makes one (the rule the CLI calls), then logged in. */
export async function makeAdmin(server: TestServer, api: Client): Promise<Account> {
  const who = newIdentity('badadmin');
  const user = await register(server.app.services, { ...who, isSuperuser: true });
  return { ...who, id: user.id, tokens: await login(api, who.username, who.password) };
}

export async function newContext(api: Client, admin: Account): Promise<Ctx> {
  const actor = await registerAndLogin(api, 'badactor');
  const spare = await login(api, actor.username, actor.password);
  const target = await registerAndLogin(api, 'badtarget');
  const sid = decodeJwt(spare.access_token).sid;
  if (typeof sid !== 'string') throw new Error('access token without sid');
  const made = await api.post<{ client_id: string }>(
    '/admin/clients',
    {
      name: 'Bad-input app',
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    { token: admin.tokens.access_token },
  );
  if (made.status !== 201) throw new Error(`client create failed: ${made.status} ${made.text}`);
  return { actor, spare, spareSid: sid, target, admin, clientId: made.body.client_id };
}

export interface Snapshot {
  users: User[];
  sessions: Record<string, Session[]>;
  clients: OAuthClient[];
}

/** Every user with all fields, and the active sessions of the context's users. */
export async function snapshot(server: TestServer, ctx: Ctx): Promise<Snapshot> {
  const store = server.app.services.store;
  const users = await store.users.list({ limit: 1000 });
  // A full page would hide users past it: the snapshot must see the whole table.
  if (users.length >= 1000) throw new Error('snapshot: more than 999 users, raise the limit');
  const sessions: Record<string, Session[]> = {};
  const now = server.clock();
  for (const who of [ctx.actor, ctx.target, ctx.admin]) {
    sessions[who.id] = await store.sessions.listActive(who.id, now);
  }
  const clients = await store.clients.list({ limit: 1000 });
  if (clients.length >= 1000) throw new Error('snapshot: more than 999 clients, raise the limit');
  return { users, sessions, clients };
}

/** What differs between two snapshots, in a few lines (a full deepEqual diff would be pages long). */
export function changes(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  const byId = (users: User[]) => new Map(users.map((u) => [u.id, u]));
  const was = byId(before.users);
  const now = byId(after.users);
  for (const [id, user] of now) {
    const old = was.get(id);
    if (!old) out.push(`user ${user.username} (${id}) was created`);
    else if (!isDeepStrictEqual(old, user)) {
      const keys = (Object.keys(user) as Array<keyof User>).filter(
        (k) => !isDeepStrictEqual(old[k], user[k]),
      );
      out.push(`user ${user.username} changed: ${keys.join(', ')}`);
    }
  }
  for (const [id, user] of was)
    if (!now.has(id)) out.push(`user ${user.username} (${id}) was deleted`);
  for (const [id, list] of Object.entries(after.sessions)) {
    if (!isDeepStrictEqual(before.sessions[id], list)) {
      out.push(
        `active sessions of ${id} changed: ${before.sessions[id]?.length ?? 0} → ${list.length}`,
      );
    }
  }
  const clientsBefore = new Map(before.clients.map((c) => [c.clientId, c]));
  const clientsAfter = new Map(after.clients.map((c) => [c.clientId, c]));
  for (const [id, c] of clientsAfter) {
    const old = clientsBefore.get(id);
    if (!old) out.push(`client ${id} was created`);
    else if (!isDeepStrictEqual(old, c)) out.push(`client ${id} changed`);
  }
  for (const id of clientsBefore.keys())
    if (!clientsAfter.has(id)) out.push(`client ${id} was deleted`);
  return out;
}
