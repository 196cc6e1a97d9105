// The scenarios of issue 5 on one Portcullis server: floor, verify, refresh, register, login,
// mixed, and verify's p99 idle and during a login storm.
import { fileURLToPath } from 'node:url';
import { browserSession, codeBodies } from './codes.ts';
import { runLoad, runTimed } from './generator.ts';
import { type Ctx, type Db, measure, type Row, settle, type Target } from './measure.ts';
import {
  accessTokens,
  type BenchUser,
  linesFile,
  loginBodies,
  logins,
  registerUsers,
} from './seed.ts';
import type { StormResult, StormSpec } from './storm-runner.ts';
import { cpuMs, rssSampler } from './system.ts';
import { evaluate } from './targets.ts';

export interface Seeded {
  users: BenchUser[];
  /** File of live access tokens, one a line: the verify pool. */
  tokens: string;
  /** File of login form bodies. */
  bodies: string;
  /** The code exchange's first-party public client and browser sessions (see codes.ts). */
  code?: { clientId: string; cookies: string[] };
}

/** Users, sessions and a pool of distinct access tokens (rotation mints one per refresh). */
export async function seed(
  ctx: Ctx,
  url: string,
  prefix: string,
  poolSize: number,
): Promise<Seeded> {
  // More accounts than login connections, so no two logins of one account run at once (the lockout
  // allows one check per account at a time).
  const users = await registerUsers(url, prefix, 64);
  const sessions = await logins(url, users, users.length);
  const tokens = await accessTokens(url, sessions, poolSize);
  return {
    users,
    tokens: linesFile(ctx.dir, `${prefix}-tokens.txt`, tokens),
    bodies: linesFile(ctx.dir, `${prefix}-bodies.txt`, loginBodies(users)),
  };
}

/** Browser sessions of a few users, for the code exchange's /authorize requests. */
export async function withCodeClient(url: string, s: Seeded, clientId: string): Promise<Seeded> {
  const cookies = [];
  for (const user of s.users.slice(0, 8)) cookies.push(await browserSession(url, user));
  return { ...s, code: { clientId, cookies } };
}

/**
 * A file of `n` fresh refresh tokens, each of its own session: single use, one chain each. Give more
 * than the connections: wrk calls request() once before the run starts, and an empty pool would
 * send a dead token.
 */
async function refreshSeeds(ctx: Ctx, url: string, s: Seeded, name: string, n: number) {
  const pairs = await logins(url, s.users, n);
  return linesFile(
    ctx.dir,
    name,
    pairs.map((p) => p.refresh_token),
  );
}

/** Run around the register and login rows: the argon2id-only ceiling measured beside them. */
export interface CeilingHooks {
  before(): void;
  after(): void;
}

export async function portcullisRows(
  ctx: Ctx,
  server: Target,
  db: Db,
  s: Seeded,
  prefix: string,
  ceiling?: CeilingHooks,
): Promise<Row[]> {
  const rows: Row[] = [];
  const id = (name: string): string => `${db}/${name}`;
  const get = (path: string) => ({ path, tokens: s.tokens });
  rows.push(
    await measure(ctx, server, {
      id: id('floor'),
      label: 'floor: GET /healthz',
      db,
      script: 'get',
      connections: 64,
      params: { path: '/healthz' },
      warmup: { path: '/healthz' },
    }),
  );
  rows.push(
    await measure(ctx, server, {
      id: id('verify'),
      label: 'verify: GET /users/me, ES256 bearer',
      db,
      script: 'get',
      connections: 64,
      params: get('/users/me'),
      warmup: get('/users/me'),
    }),
  );
  rows.push(
    await measure(ctx, server, {
      id: id('refresh'),
      label: 'refresh grant, rotation',
      db,
      script: 'refresh',
      connections: 16,
      params: { refresh: await refreshSeeds(ctx, server.url, s, `${prefix}-r1.txt`, 24) },
      ...(ctx.warmupSeconds > 0
        ? { warmup: { refresh: await refreshSeeds(ctx, server.url, s, `${prefix}-r0.txt`, 24) } }
        : {}),
    }),
  );
  const refresh = rows.at(-1) as Row;
  if (s.code) rows.push(await codeRow(ctx, server, db, s.code, prefix, refresh));
  await settle(server.pid);
  ceiling?.before();
  rows.push(
    await measure(ctx, server, {
      id: id('register'),
      label: 'register',
      db,
      script: 'register',
      connections: 16,
      params: { prefix: `${prefix}g` },
    }),
  );
  rows.push(
    await measure(ctx, server, {
      id: id('login'),
      label: 'login: password grant',
      db,
      script: 'login',
      connections: 16,
      params: { bodies: s.bodies },
    }),
  );
  await settle(server.pid);
  ceiling?.after();
  rows.push(
    await measure(ctx, server, {
      id: id('mixed'),
      label: 'mixed: 87.5% verify, 10% refresh, 2% login, 0.5% register',
      db,
      script: 'mixed',
      connections: 64,
      params: {
        tokens: s.tokens,
        bodies: s.bodies,
        prefix: `${prefix}x`,
        refresh: await refreshSeeds(ctx, server.url, s, `${prefix}-r2.txt`, 32),
      },
    }),
  );
  rows.push(...(await stormRows(ctx, server, db, s)));
  return rows;
}

/**
 * The code exchange beside the refresh grant: POST /token with `grant_type=authorization_code`,
 * a fresh code and its PKCE verifier every time. Codes live 60 seconds, so each pool is made just
 * before its run and used newest first. It is sized from the refresh row: 1.5 × what refresh would
 * serve on a whole core. The exchange does a refresh's work and more (the code read and spent, a
 * session made), so it does not run dry; if it ever did, the row's errors would say so.
 */
async function codeRow(
  ctx: Ctx,
  server: Target,
  db: Db,
  code: NonNullable<Seeded['code']>,
  prefix: string,
  refresh: Row,
): Promise<Row> {
  const connections = 16;
  // What refresh would have served with the whole core (a busy machine may have given it less).
  const fullCore = Math.max(
    refresh.rps,
    refresh.cpuUsPerRequest > 0 ? 1e6 / refresh.cpuUsPerRequest : 0,
  );
  const pool = async (seconds: number, name: string): Promise<string> => {
    const n = Math.ceil(Math.max(200, fullCore * 1.5) * seconds) + 4 * connections;
    const started = performance.now();
    const bodies = await codeBodies(server.url, code.clientId, code.cookies, n);
    ctx.log(
      `${db}: ${n} codes from /authorize in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    return linesFile(ctx.dir, name, bodies);
  };
  if (ctx.warmupSeconds > 0) {
    // The warm-up's codes, then the measured run's: made after the warm-up, so none is old.
    const warm = await pool(ctx.warmupSeconds, `${prefix}-c0.txt`);
    await settle(server.pid);
    await runLoad(ctx.generator, {
      url: server.url,
      script: 'code',
      connections,
      seconds: ctx.warmupSeconds,
      params: { codes: warm },
      cpus: ctx.loadCpus,
    });
  }
  const row = await measure(ctx, server, {
    id: `${db}/code`,
    label: 'code exchange: authorization_code grant, PKCE S256, first-party public client',
    db,
    script: 'code',
    connections,
    params: { codes: await pool(ctx.seconds, `${prefix}-c1.txt`) },
  });
  // The same check as the report's (targets.ts), printed here beside both rates.
  const check = evaluate([refresh, row]).find((c) => c.from[0] === row.id);
  if (check) {
    const cpu = check.byCpu === undefined ? '' : `, by CPU cost ${check.byCpu.toFixed(2)} ×`;
    ctx.log(
      `${db}: code exchange ${row.rps.toFixed(0)} req/s beside refresh ${refresh.rps.toFixed(0)} req/s: ` +
        `${check.measured.toFixed(2)} ×${cpu} (needed ≥ 0.67 ×, decided by ${check.basis}): ` +
        (check.met ? 'met' : 'missed'),
    );
  }
  return row;
}

const STORM_RUNNER = fileURLToPath(new URL('./storm-runner.ts', import.meta.url));

/**
 * Verify's latency with and without a login storm, in alternating 2 s windows (storm-runner.ts):
 * three rows, the probe idle, the probe during the storm, and the storm's logins.
 */
async function stormRows(ctx: Ctx, server: Target, db: Db, s: Seeded): Promise<Row[]> {
  // Twice the row length, in an even number of windows: as long idle as stormy.
  const window = ctx.seconds < 4 ? 1 : 2;
  const spec: StormSpec = {
    url: server.url,
    tokens: s.tokens,
    bodies: s.bodies,
    seconds: 2 * window * Math.max(1, Math.round(ctx.seconds / window)),
    windowMs: window * 1000,
    settleMs: window * 250,
    probeConnections: 4,
    probePauseMs: 5,
    stormConnections: 16,
  };
  await settle(server.pid);
  const cpuBefore = cpuMs(server.pid);
  const rss = rssSampler(server.pid);
  const pin = ctx.loadCpus ? ['taskset', '-c', ctx.loadCpus] : [];
  const { out, cpuSeconds } = await runTimed([
    ...pin,
    process.execPath,
    STORM_RUNNER,
    JSON.stringify(spec),
  ]);
  const peakRssMiB = rss.stop();
  const serverCpuMs = cpuMs(server.pid) - cpuBefore;
  const json = /BENCH_STORM (\{.*\})/.exec(out)?.[1];
  if (!json) throw new Error(`storm runner printed no result:\n${out.slice(-2000)}`);
  const r = JSON.parse(json) as StormResult;
  const common = {
    db,
    requests: 0,
    errors: 0,
    peakRssMiB,
    serverCpuPct: (serverCpuMs / (spec.seconds * 1000)) * 100,
    cpuUsPerRequest: 0,
    generatorCpuPct: (cpuSeconds / spec.seconds) * 100,
  };
  const probeSeconds = spec.seconds / 2;
  const rows: Row[] = [
    {
      ...common,
      id: `${db}/verify-idle`,
      label: 'verify probe (4 paced connections), storm off',
      connections: spec.probeConnections,
      requests: r.idle.n,
      rps: r.idle.n / probeSeconds,
      p50Ms: r.idle.p50Ms,
      p99Ms: r.idle.p99Ms,
      errors: r.errors,
    },
    {
      ...common,
      id: `${db}/verify-storm`,
      label: 'verify probe, storm on (alternating 2 s windows)',
      connections: spec.probeConnections,
      requests: r.storm.n,
      rps: r.storm.n / probeSeconds,
      p50Ms: r.storm.p50Ms,
      p99Ms: r.storm.p99Ms,
    },
    {
      ...common,
      id: `${db}/login-storm`,
      label: 'login storm: 16 connections, in its windows',
      connections: spec.stormConnections,
      requests: r.logins,
      rps: r.logins / r.loginSeconds,
      p50Ms: 0,
      p99Ms: 0,
    },
  ];
  for (const row of rows) {
    ctx.log(
      `${row.id.padEnd(34)} ${row.rps.toFixed(0).padStart(7)} req/s  p99 ${row.p99Ms.toFixed(1)} ms`,
    );
  }
  return rows;
}
