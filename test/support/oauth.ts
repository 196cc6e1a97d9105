// Shared set-up for the OAuth / OpenID Connect suites: a server whose ISSUER is its real address (so
// real clients can discover it), a registered client, a redirect URI that is a listener of the
// test, and a signed-in browser that walks through the real sign-in and consent pages.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { register } from '../../src/auth/accounts/index.ts';
import { type Account, superuser } from './fixtures.ts';
import { type Client, client, newIdentity } from './http.ts';
import type { TestDatabase } from './postgres.ts';
import { startServer, type TestServer } from './server.ts';

export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

export interface OAuthWorld {
  server: TestServer;
  issuer: string;
  api: Client;
  admin: Account;
  close(): Promise<void>;
}

/** A server listening where its ISSUER says, with a superuser to register clients. */
export async function oauthWorld(
  db: TestDatabase,
  env: Record<string, string> = {},
): Promise<OAuthWorld> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const server = await startServer({
    db,
    port,
    env: { ISSUER: issuer, PUBLIC_URL: issuer, RATE_LIMIT_AUTHORIZE: '100000/1m', ...env },
  });
  const api = client(server.url);
  const admin = await superuser(server, api);
  return { server, issuer, api, admin, close: () => server.close() };
}

/** A user made through the rules (fast), with its password. */
export async function makeUser(
  world: OAuthWorld,
  prefix = 'alice',
  extra: { scopes?: string[] } = {},
): Promise<{ id: string; username: string; email: string; password: string }> {
  const who = newIdentity(prefix);
  const user = await register(world.server.app.services, { ...who, ...extra, isVerified: true });
  return { ...who, id: user.id };
}

export interface RegisteredClient {
  client_id: string;
  client_secret?: string;
  [key: string]: unknown;
}

export async function registerClient(
  world: OAuthWorld,
  fields: Record<string, unknown>,
): Promise<RegisteredClient> {
  const answer = await world.api.post<RegisteredClient>('/admin/clients', fields, {
    token: world.admin.tokens.access_token,
  });
  if (answer.status !== 201)
    throw new Error(`client registration: ${answer.status} ${answer.text}`);
  return answer.body;
}

/** An HTTP listener standing in for the app's redirect URI: records each request's full URL. */
export interface Listener {
  base: string;
  hits: URL[];
  /** The next request that reaches `path`. */
  next(path: string): Promise<URL>;
  close(): Promise<void>;
}

export async function listener(): Promise<Listener> {
  const hits: URL[] = [];
  const waiting: Array<{ path: string; resolve: (u: URL) => void }> = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    hits.push(url);
    for (const w of waiting.filter((x) => x.path === url.pathname)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(url);
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('the app got it');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    hits,
    next: (path) => new Promise((resolve) => waiting.push({ path, resolve })),
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** On the sign-in page: types the credentials and submits. */
export async function signInOnPage(page: Page, username: string, password: string): Promise<void> {
  await page.waitForURL(/\/login\?/);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('button[type="submit"]');
}
