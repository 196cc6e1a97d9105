// In-process: what the live-session check (src/tokens/live-sessions.ts) costs on the hot path.
// One server's services on SQLite, 256 sessions with one access token each, verified in turn:
//   steady  the steady path without the check: verifySignature + the deny-list (the verify of before)
//   live    accessTokens.verify as the server runs it: the same, plus the live-session check
//   cold    the same as live, on an instance that did not issue the tokens, its first pass (each
//           session read from the sessions table once)
// Rounds alternate so that drift of the machine hits both alike. Prints one BENCH_LIVE line.
//   node bench/live-sessions.ts [seconds]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from '../src/auth/accounts/index.ts';
import { startSession } from '../src/auth/sessions/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { buildApp } from '../src/server/app.ts';

const seconds = Number(process.argv[2] ?? '2');
const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-live-'));
const env = {
  NODE_ENV: 'test',
  DATA_DIR: dir,
  DATABASE_URL: `sqlite:${join(dir, 'portcullis.db')}`,
  LOG_LEVEL: 'silent',
  // Hashing is not measured here; only the few registrations below hash at all.
  PASSWORD_HASH_MEMORY_KIB: '1024',
  PASSWORD_HASH_TIME_COST: '1',
};
const config = loadConfig({ env, envFileDir: null });
const issuer = await buildApp(config, { logger: false });
const s = issuer.services;
const tokens: string[] = [];
for (let u = 0; u < 4; u++) {
  const user = await register(s, {
    username: `bench${u}`,
    email: `bench${u}@example.com`,
    password: `correct horse battery ${u} staple`,
  });
  for (let i = 0; i < 64; i++) {
    const { tokens: pair } = await startSession(s, user, '', {
      clientId: config.defaultClientId,
      userAgent: null,
      ip: null,
    });
    tokens.push(pair.access_token);
  }
}

// The verify of before, line for line: one async step over verifySignature, then the deny-list.
async function steady(token: string): Promise<unknown> {
  const claims = await s.accessTokens.verifySignature(token);
  if (s.revocations.isRevoked(claims)) throw new Error('revoked');
  return claims;
}
const live = (token: string): Promise<unknown> => s.accessTokens.verify(token);

/** Verifications per second over `ms`, cycling through the tokens. */
async function rate(verify: (token: string) => Promise<unknown>, ms: number): Promise<number> {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 256; i++) await verify(tokens[(n + i) % tokens.length] as string);
    n += 256;
  }
  return n / ((performance.now() - start) / 1000);
}

// Warm both paths (JIT, verified-token cache), then alternate.
await rate(steady, 200);
await rate(live, 200);
const rounds = 6;
const sums = { steady: 0, live: 0 };
for (let r = 0; r < rounds; r++) {
  sums.steady += await rate(steady, (seconds * 500) / rounds);
  sums.live += await rate(live, (seconds * 500) / rounds);
}

// A second instance on the same database: it never issued these tokens, so its first verify of
// each session is a miss (one read), every later one a hit.
const other = await buildApp(config, { logger: false });
const coldStart = performance.now();
for (const token of tokens) await other.services.accessTokens.verify(token);
const coldUs = ((performance.now() - coldStart) * 1000) / tokens.length;
await other.close();
await issuer.close();
rmSync(dir, { recursive: true, force: true });

const steadyRate = sums.steady / rounds;
const liveRate = sums.live / rounds;
console.log(
  `BENCH_LIVE ${JSON.stringify({
    steadyPerSecond: steadyRate,
    livePerSecond: liveRate,
    ratio: liveRate / steadyRate,
    steadyUs: 1e6 / steadyRate,
    liveUs: 1e6 / liveRate,
    coldFirstUs: coldUs,
    sessions: tokens.length,
  })}`,
);
