// Fixtures of the hostile-token suite: one real server per database with a logged-in user, the
// material attackers use (their own key, a self-made cert chain, a foreign server's token) and a
// loopback listener that counts every request, to prove no jku/x5u URL was ever fetched.
import assert from 'node:assert/strict';
import { randomUUID, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  type JWK,
} from 'jose';
import { sql } from 'kysely';
import { openDatabase } from '../../src/store/database.ts';
import { type Client, client, newIdentity, registerAndLogin } from '../support/http.ts';
import type { TestDatabase } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { es256, type Json, parts, patch } from './forge.ts';
import { type CertChain, selfMadeChain } from './x509-chain.ts';

export interface Listener {
  url: string;
  /** Requests received since start (or since reset). */
  hits(): number;
  reset(): void;
  close(): Promise<void>;
}

/** Attacker material shared by every database's run. */
export interface Shared {
  listener: Listener;
  attacker: { key: CryptoKey; jwk: JWK; kid: string };
  chain: CertChain;
  /** An access token of another Portcullis (own DATA_DIR, so other keys; same ISSUER). */
  foreignToken: string;
  close(): Promise<void>;
}

export interface HostileContext extends Shared {
  server: TestServer;
  api: Client;
  genuine: string;
  refresh: string;
  /** The genuine token's header and claims, as the server issues them. */
  header: Json;
  claims: Json;
  kid: string;
  /** The server's published key (JWKS member). */
  publicJwk: JWK;
  victimId: string;
  /** The server's own current signing key (what `server.app.services.keys.signing()` returns). */
  signing(): { kid: string; key: CryptoKey };
  /** A token signed with the server's own current key: valid signature, the claims we choose. */
  forge(headerChanges?: Json, claimChanges?: Json): Promise<string>;
  nowSeconds(): number;
}

/** One row of the table: a name and a function that builds what is sent. */
export interface Attack {
  name: string;
  /** The token sent as `Authorization: Bearer <token>` (with `header`, the whole header value). */
  build(ctx: HostileContext): string | Promise<string>;
  header?: true;
  /** How far the server's clock moves after the token is built (it is moved back afterwards). */
  advanceMs?(ctx: HostileContext): number;
  /** One of the representative rows that also run on PostgreSQL. */
  postgres?: true;
  /** Node's HTTP parser answers before the app: the status it must give instead of 401. */
  status?: 431;
}

async function startListener(chain: CertChain, jwks: { keys: JWK[] }): Promise<Listener> {
  let hits = 0;
  const server: Server = createServer((request, response) => {
    hits += 1;
    // Serve what a real attacker would, so a fetch would have "worked".
    const body = request.url?.endsWith('.pem') ? chain.pem : JSON.stringify(jwks);
    response.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    reset: () => {
      hits = 0;
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

export async function openShared(): Promise<Shared> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const jwk = { ...publicJwk, kid, alg: 'ES256', use: 'sig' };
  const chain = await selfMadeChain();
  const [leaf, root] = chain.x5c.map((b64) => new X509Certificate(Buffer.from(b64, 'base64')));
  // The chain must be a real one, or the x5c rows would prove nothing.
  assert.ok(leaf && root && leaf.checkIssued(root) && leaf.verify(root.publicKey));
  const listener = await startListener(chain, { keys: [jwk] });
  // The listener must count, or "zero requests" would prove nothing.
  assert.equal((await fetch(`${listener.url}/jwks.json`)).status, 200);
  assert.equal(listener.hits(), 1);
  listener.reset();
  const foreign = await startServer({ db: 'sqlite' });
  let foreignToken: string;
  try {
    foreignToken = (await registerAndLogin(client(foreign.url), 'foreign')).tokens.access_token;
  } finally {
    await foreign.close();
  }
  return {
    listener,
    attacker: { key: pair.privateKey, jwk, kid },
    chain,
    foreignToken,
    close: () => listener.close(),
  };
}

export async function openContext(db: TestDatabase, shared: Shared): Promise<HostileContext> {
  const server = await startServer({ db });
  try {
    const api = client(server.url);
    const alice = await registerAndLogin(api, 'alice');
    const victim = await api.post<{ id: string }>('/register', newIdentity('victim'));
    assert.equal(victim.status, 201, victim.text);
    const jwks = await api.get<{ keys: JWK[] }>('/.well-known/jwks.json');
    const genuine = alice.tokens.access_token;
    const header = JSON.parse(Buffer.from(parts(genuine)[0], 'base64url').toString()) as Json;
    const kid = String(header.kid);
    const publicJwk = jwks.body.keys.find((k) => k.kid === kid);
    assert.ok(publicJwk, 'the genuine token names a published key');
    const claims = decodeJwt(genuine) as Json;
    const signing = (): { kid: string; key: CryptoKey } => {
      const { kid: current, key } = server.app.services.keys.signing();
      assert.ok(!(key instanceof Uint8Array), 'ES256 signs with a CryptoKey');
      return { kid: current, key };
    };
    return {
      ...shared,
      server,
      api,
      genuine,
      refresh: alice.tokens.refresh_token,
      header,
      claims,
      kid,
      publicJwk,
      victimId: victim.body.id,
      signing,
      async forge(headerChanges = {}, claimChanges = {}) {
        const { kid: current, key } = signing();
        // A fresh jti, so a forged token is never the genuine one byte for byte.
        const body = patch({ ...claims, jti: randomUUID() }, claimChanges);
        return es256(key, patch({ ...header, kid: current }, headerChanges), body);
      },
      nowSeconds: () => Math.floor(server.clock() / 1000),
    };
  } catch (error) {
    await server.close();
    throw error;
  }
}

export interface StoreCounts {
  users: number;
  sessions: number;
  refresh_tokens: number;
  revocations: number;
  signing_keys: number;
}

/** Row counts, read over a connection of our own (not the server's), on SQLite or PostgreSQL. */
export async function storeCounts(databaseUrl: string): Promise<StoreCounts> {
  const database = await openDatabase(databaseUrl);
  try {
    const count = async (table: keyof StoreCounts): Promise<number> => {
      const result = await sql<{
        n: number | string;
      }>`select count(*) as n from ${sql.table(table)}`.execute(database.kysely);
      return Number(result.rows[0]?.n);
    };
    return {
      users: await count('users'),
      sessions: await count('sessions'),
      refresh_tokens: await count('refresh_tokens'),
      revocations: await count('revocations'),
      signing_keys: await count('signing_keys'),
    };
  } finally {
    await database.close();
  }
}
