// The scenarios of issue 5 on one Portcullis server: floor, verify, refresh, register, login,
// mixed, and verify's p99 idle and during a login storm.
import { runLoad } from './generator.ts';
import { type Ctx, type Db, measure, type Row, settle, type Target, toRow } from './measure.ts';
import {
  accessTokens,
  type BenchUser,
  linesFile,
  loginBodies,
  logins,
  registerUsers,
} from './seed.ts';
import { cpuMs, rssSampler } from './system.ts';

export interface Seeded {
  users: BenchUser[];
  /** File of live access tokens, one a line: the verify pool. */
  tokens: string;
  /** File of login form bodies. */
  bodies: string;
}

/** Users, sessions and a pool of distinct access tokens (rotation mints one per refresh). */
export async function seed(
  ctx: Ctx,
  url: string,
  prefix: string,
  poolSize: number,
): Promise<Seeded> {
  const users = await registerUsers(url, prefix, 8);
  const sessions = await logins(url, users, users.length);
  const tokens = await accessTokens(url, sessions, poolSize);
  return {
    users,
    tokens: linesFile(ctx.dir, `${prefix}-tokens.txt`, tokens),
    bodies: linesFile(ctx.dir, `${prefix}-bodies.txt`, loginBodies(users)),
  };
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

export async function portcullisRows(
  ctx: Ctx,
  server: Target,
  db: Db,
  s: Seeded,
  prefix: string,
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

/** Verify's latency probe (4 paced connections) alone, then while 16 connections log in. */
async function stormRows(ctx: Ctx, server: Target, db: Db, s: Seeded): Promise<Row[]> {
  const probe = {
    db,
    script: 'probe' as const,
    connections: 4,
    params: { path: '/users/me', tokens: s.tokens, delay: '5' },
  };
  const idle = await measure(ctx, server, {
    ...probe,
    id: `${db}/verify-idle`,
    label: 'verify probe (4 paced connections), idle',
  });
  const stormPlan = {
    id: `${db}/login-storm`,
    label: 'login storm: 16 connections, while the probe runs',
    db,
    connections: 16,
  };
  await settle(server.pid);
  const cpuBefore = cpuMs(server.pid);
  const rss = rssSampler(server.pid);
  const storm = runLoad(ctx.generator, {
    url: server.url,
    script: 'login',
    connections: 16,
    seconds: ctx.seconds + 2,
    params: { bodies: s.bodies },
    cpus: ctx.loadCpus,
  });
  // Let the storm fill the hashing threads before the probe starts.
  await new Promise((r) => setTimeout(r, 1000));
  const during = await measure(ctx, server, {
    ...probe,
    id: `${db}/verify-storm`,
    busy: true,
    label: 'verify probe during the login storm',
  });
  const stormLoad = await storm;
  const stormRow = toRow(stormPlan, stormLoad, {
    cpuMs: cpuMs(server.pid) - cpuBefore,
    peakRssMiB: rss.stop(),
  });
  ctx.log(`${stormRow.id.padEnd(34)} ${stormRow.rps.toFixed(0).padStart(7)} req/s`);
  return [idle, during, stormRow];
}
