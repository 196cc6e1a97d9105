// The code exchange's pool: authorization codes made before the load, through the real /authorize.
// Codes are single use and live 60 seconds, so every request of a run needs a fresh one, made just
// before it starts: a browser session (POST /login, the cookie mode) of a first-party public client
// (no consent page) asks GET /authorize for each, and the 302's Location carries it.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type BenchUser, inParallel } from './seed.ts';
import { ROOT } from './servers.ts';

/** Where the codes are sent back: a loopback URI nothing listens on (the 302 is read, not followed). */
export const REDIRECT_URI = 'http://127.0.0.1/bench/callback';
/** What the refresh row's sessions carry (the password grant's default scopes): like for like. */
export const CODE_SCOPE = 'read write';

export interface Database {
  dataDir: string;
  databaseUrl: string;
  secretKey: string;
  issuer: string;
}

/** Registers the bench's client with the real `portcullis client create`; returns its client_id. */
export function registerCodeClient(server: Database): string {
  const made = spawnSync(
    process.execPath,
    [
      join(ROOT, 'bin', 'portcullis.mjs'),
      'client',
      'create',
      '--name',
      'Bench SPA',
      '--redirect-uri',
      REDIRECT_URI,
      '--scope',
      CODE_SCOPE,
      // First-party: no consent page between /authorize and the code.
      '--first-party',
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        NODE_ENV: 'production',
        DATA_DIR: server.dataDir,
        DATABASE_URL: server.databaseUrl,
        SECRET_KEY: server.secretKey,
        ISSUER: server.issuer,
        LOG_LEVEL: 'warn',
      },
    },
  );
  if (made.status !== 0) throw new Error(`portcullis client create failed:\n${made.stderr}`);
  return (JSON.parse(made.stdout) as { client_id: string }).client_id;
}

let calls = 0;
// Many clients behind the trusted proxy, as the generators send (per-address rate limits).
const xff = (): string => {
  calls++;
  return `10.201.${(calls >> 8) & 255}.${calls & 255}`;
};

/** A browser's session cookies from POST /login (the cookie mode of the web pages). */
export async function browserSession(url: string, user: BenchUser): Promise<string> {
  const answer = await fetch(`${url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': xff() },
    body: JSON.stringify({ username: user.username, password: user.password }),
  });
  const text = await answer.text();
  if (!answer.ok)
    throw new Error(`seeding: /login answered ${answer.status}: ${text.slice(0, 300)}`);
  return answer.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

const base64url = (bytes: Buffer): string => bytes.toString('base64url');

/**
 * `n` token request bodies, each with a fresh code of its own PKCE pair, made by the given browser
 * sessions in turn: one line each, for bench/wrk/code.lua.
 */
export async function codeBodies(
  url: string,
  clientId: string,
  cookies: string[],
  n: number,
): Promise<string[]> {
  return inParallel(n, 16, async (i) => {
    const verifier = base64url(randomBytes(32));
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      scope: CODE_SCOPE,
      state: base64url(randomBytes(12)),
      code_challenge: base64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
    });
    const answer = await fetch(`${url}/authorize?${query}`, {
      redirect: 'manual',
      headers: { cookie: cookies[i % cookies.length] as string, 'x-forwarded-for': xff() },
    });
    const text = await answer.text();
    const location = answer.headers.get('location') ?? '';
    const code = URL.canParse(location) ? new URL(location).searchParams.get('code') : null;
    if (answer.status !== 302 || !code || !location.startsWith(REDIRECT_URI))
      throw new Error(
        `seeding: /authorize answered ${answer.status} ${location.slice(0, 200)} ${text.slice(0, 300)}`,
      );
    return new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: clientId,
      code_verifier: verifier,
    }).toString();
  });
}
