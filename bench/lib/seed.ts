// Users, sessions and token pools made through the public API, before the load starts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PASSWORD = 'correct horse battery staple';

export interface BenchUser {
  username: string;
  password: string;
}

interface Pair {
  access_token: string;
  refresh_token: string;
}

let calls = 0;

async function post(url: string, path: string, body: Record<string, string>): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    const answer = await postOnce(url, path, body);
    // The lockout lets one check per account run at a time: wait as told and try again.
    const retry = Number(answer.headers.get('retry-after'));
    if (answer.status !== 429 || attempt >= 5 || !(retry > 0)) return parse(answer, path);
    await answer.text();
    await new Promise((resolve) => setTimeout(resolve, retry * 1000));
  }
}

async function parse(answer: Response, path: string): Promise<unknown> {
  const text = await answer.text();
  if (!answer.ok)
    throw new Error(`seeding: ${path} answered ${answer.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

async function postOnce(
  url: string,
  path: string,
  body: Record<string, string>,
): Promise<Response> {
  const json = path === '/register';
  calls++;
  return fetch(url + path, {
    method: 'POST',
    headers: {
      'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded',
      // Many clients, as the generators send (the server trusts 127.0.0.1 as its proxy).
      'x-forwarded-for': `10.200.${(calls >> 8) & 255}.${calls & 255}`,
    },
    body: json ? JSON.stringify(body) : new URLSearchParams(body).toString(),
  });
}

/** Runs fn(i) for i < n with at most `width` at a time. */
export async function inParallel<T>(
  n: number,
  width: number,
  fn: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, n) }, lane));
  return out;
}

export async function registerUsers(url: string, prefix: string, n: number): Promise<BenchUser[]> {
  return inParallel(n, 8, async (i) => {
    const user = { username: `${prefix}u${i}`, password: PASSWORD };
    await post(url, '/register', { ...user, email: `${user.username}@example.com` });
    return user;
  });
}

/** `n` password logins spread over the users: each is a new session. */
export async function logins(url: string, users: BenchUser[], n: number): Promise<Pair[]> {
  // Never two logins of one account at once (the lockout would refuse the second).
  return inParallel(n, Math.min(16, users.length), async (i) => {
    const user = users[i % users.length] as BenchUser;
    return (await post(url, '/token', { ...user, grant_type: 'password' })) as Pair;
  });
}

/**
 * `total` distinct live access tokens: each session is refreshed in turn and every answer's access
 * token kept (rotation leaves earlier access tokens valid until they expire).
 */
export async function accessTokens(
  url: string,
  sessions: Pair[],
  total: number,
): Promise<string[]> {
  const tokens = sessions.map((s) => s.access_token);
  const refresh = sessions.map((s) => s.refresh_token);
  await inParallel(sessions.length, sessions.length, async (lane) => {
    for (let k = lane; k < total - sessions.length; k += sessions.length) {
      const pair = (await post(url, '/token', {
        grant_type: 'refresh_token',
        refresh_token: refresh[lane] as string,
      })) as Pair;
      refresh[lane] = pair.refresh_token;
      tokens.push(pair.access_token);
    }
  });
  return tokens;
}

export function loginBodies(users: BenchUser[]): string[] {
  return users.map((u) =>
    new URLSearchParams({ username: u.username, password: u.password }).toString(),
  );
}

/** Writes one item a line and returns the path, for the generator scripts. */
export function linesFile(dir: string, name: string, lines: readonly string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
