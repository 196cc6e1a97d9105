// `npm run bench`: Portcullis against its baselines, every figure a ratio measured side by side in
// one run, the server on one core and the generator on the other. Exits 1 when a row had errors or
// (full runs only) a target was missed. `npm run bench -- --smoke`: a short run on SQLite that only
// proves the bench still works (fails on errors, never on ratios). See bench/README.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart } from './chart.ts';
import { registerCodeClient } from './lib/codes.ts';
import type { GeneratorName } from './lib/generator.ts';
import { type Ctx, measure, type Row } from './lib/measure.ts';
import { startPostgres } from './lib/postgres.ts';
import { formatJson, markdown, type Results } from './lib/report.ts';
import { type CeilingHooks, portcullisRows, seed, withCodeClient } from './lib/scenarios.ts';
import { ROOT, startBaseline, startPortcullis } from './lib/servers.ts';
import { describeMachine, hasCommand } from './lib/system.ts';
import { evaluate } from './lib/targets.ts';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    db: { type: 'string' },
    generator: { type: 'string' },
    'no-publish': { type: 'boolean', default: false },
  },
});
const smoke = values.smoke === true;
const started = performance.now();
const machine = describeMachine();
const twoCores = cpus().length >= 2 && hasCommand('taskset');
const dbs = (values.db ?? (smoke ? 'sqlite' : 'sqlite,postgres')).split(',');
const log = (message: string): void =>
  console.error(
    `bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s: ${message}`,
  );

function pickGenerator(): GeneratorName {
  if (values.generator === 'wrk' || values.generator === 'autocannon') return values.generator;
  if (hasCommand('wrk')) return 'wrk';
  // A full run may install wrk (Debian's package); the smoke never installs anything.
  if (!smoke && process.getuid?.() === 0 && hasCommand('apt-get')) {
    log('wrk is missing: installing it with apt-get');
    spawnSync('apt-get', ['install', '-y', '-qq', 'wrk'], { stdio: 'ignore' });
    if (hasCommand('wrk')) return 'wrk';
  }
  log('wrk is not installed: using autocannon');
  return 'autocannon';
}

function generatorVersion(name: GeneratorName): string {
  if (name === 'autocannon') {
    const pkg = JSON.parse(
      readFileSync(join(ROOT, 'node_modules', 'autocannon', 'package.json'), 'utf8'),
    ) as { version: string };
    return `autocannon ${pkg.version} (one Node process)`;
  }
  const out = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  return (`${out.stdout}${out.stderr}`.split('\n')[0] ?? 'wrk').split(' Copyright')[0] ?? 'wrk';
}

const generator = pickGenerator();
const ctx: Ctx = {
  generator,
  seconds: Number(values.seconds ?? (smoke ? 1 : 6)),
  warmupSeconds: Number(values.warmup ?? (smoke ? 0 : 2)),
  serverCpus: twoCores ? '0' : undefined,
  loadCpus: twoCores ? '1' : undefined,
  dir: mkdtempSync(join(tmpdir(), 'portcullis-bench-run-')),
  log,
};
if (!twoCores) log('fewer than two cores or no taskset: nothing is pinned, ratios are rougher');
const runId = Date.now().toString(36).slice(-6);
const rows: Row[] = [];

async function baselines(): Promise<void> {
  // The smoke proves the machinery with one baseline server; a full run measures all of them.
  if (smoke) return fastifyJwt(['ES256']);
  const http = await startBaseline('node:http', 'node-http.ts', [], ctx.serverCpus);
  rows.push(
    await measure(ctx, http, {
      id: 'baseline/node-http',
      label: 'node:http, fixed JSON (one process ceiling)',
      db: null,
      script: 'get',
      connections: 64,
      params: { path: '/' },
      warmup: { path: '/' },
    }),
  );
  await http.stop();
  await fastifyJwt(['ES256', 'HS256']);
}

async function fastifyJwt(algorithms: string[]): Promise<void> {
  for (const alg of algorithms) {
    const server = await startBaseline(
      `fastify-jwt ${alg}`,
      'fastify-jwt.ts',
      [alg],
      ctx.serverCpus,
      '/healthz',
    );
    const tokens = (await (await fetch(`${server.url}/mint?n=256`)).json()) as string[];
    const file = join(ctx.dir, `fastify-${alg}.txt`);
    writeFileSync(file, `${tokens.join('\n')}\n`);
    rows.push(
      await measure(ctx, server, {
        id: `baseline/fastify-jwt-${alg.toLowerCase()}`,
        label: `Fastify + @fastify/jwt ${alg}, GET /users/me`,
        db: null,
        script: 'get',
        connections: 64,
        params: { path: '/users/me', tokens: file },
        warmup: { path: '/users/me', tokens: file },
      }),
    );
    await server.stop();
  }
}

/** One run of the argon2id-only process, pinned like the server: hashes, seconds, CPU, latency. */
function argon2Run(seconds: number): Record<string, number> {
  const command = [
    process.execPath,
    join(ROOT, 'bench', 'baselines', 'argon2.ts'),
    String(seconds),
    '16',
  ];
  const full = ctx.serverCpus ? ['taskset', '-c', ctx.serverCpus, ...command] : command;
  const threads = ctx.serverCpus ? '1' : String(cpus().length);
  const out = execFileSync(full[0] as string, full.slice(1), {
    encoding: 'utf8',
    env: { ...process.env, UV_THREADPOOL_SIZE: threads },
  });
  const json = /BENCH_ARGON2 (\{.*\})/.exec(out)?.[1];
  if (!json) throw new Error(`argon2 baseline printed no result:\n${out}`);
  return JSON.parse(json) as Record<string, number>;
}

/**
 * The argon2id ceiling of one database's login and register rows, measured right before them and
 * right after (half the row length each, pooled): the machine's speed drifts by 10 % and more
 * over minutes, and a ceiling taken at another moment would measure the drift.
 */
function argon2Ceiling(db: 'sqlite' | 'postgres'): CeilingHooks & {
  row(): Row;
} {
  const runs: Array<Record<string, number>> = [];
  const half = Math.max(1, ctx.seconds / 2);
  return {
    before: () => {
      runs.push(argon2Run(half));
    },
    after: () => {
      runs.push(argon2Run(half));
    },
    row(): Row {
      const sum = (k: string): number => runs.reduce((t, r) => t + (r[k] ?? 0), 0);
      const n = sum('hashes');
      const elapsed = sum('seconds');
      const cpuSeconds = sum('cpuSeconds');
      const row: Row = {
        id: db === 'sqlite' ? 'baseline/argon2id' : 'baseline/argon2id-pg',
        label: `argon2id only, Portcullis parameters, 16 in flight (before and after ${db === 'sqlite' ? 'SQLite' : 'PostgreSQL'}'s register and login)`,
        db: null,
        connections: 16,
        requests: n,
        rps: elapsed > 0 ? n / elapsed : 0,
        p50Ms: sum('p50Ms') / Math.max(1, runs.length),
        p99Ms: Math.max(...runs.map((r) => r.p99Ms ?? 0)),
        errors: 0,
        peakRssMiB: Math.max(...runs.map((r) => r.maxRssMiB ?? 0)),
        serverCpuPct: elapsed > 0 ? (cpuSeconds / elapsed) * 100 : 0,
        cpuUsPerRequest: n > 0 ? (cpuSeconds * 1e6) / n : 0,
        generatorCpuPct: 0,
      };
      log(`${row.id.padEnd(34)} ${row.rps.toFixed(1).padStart(7)} hashes/s`);
      return row;
    },
  };
}

/**
 * In process, no HTTP: verify with the live-session check against the steady path without it, in
 * alternating rounds of one process (bench/live-sessions.ts), pinned like the server.
 */
function liveSessionRows(): void {
  const command = [
    process.execPath,
    join(ROOT, 'bench', 'live-sessions.ts'),
    String(Math.max(1, ctx.seconds / 2)),
  ];
  const full = ctx.serverCpus ? ['taskset', '-c', ctx.serverCpus, ...command] : command;
  const out = execFileSync(full[0] as string, full.slice(1), { encoding: 'utf8' });
  const json = /BENCH_LIVE (\{.*\})/.exec(out)?.[1];
  if (!json) throw new Error(`bench/live-sessions.ts printed no result:\n${out}`);
  const r = JSON.parse(json) as Record<string, number>;
  const row = (id: string, label: string, perSecond: number): Row => ({
    id,
    label,
    db: null,
    connections: 1,
    requests: Math.round(perSecond * ctx.seconds),
    rps: perSecond,
    p50Ms: 1e3 / perSecond,
    p99Ms: 0,
    errors: 0,
    peakRssMiB: 0,
    // One busy loop on its core: its own rate decides (see targets.ts).
    serverCpuPct: 100,
    cpuUsPerRequest: 1e6 / perSecond,
    generatorCpuPct: 0,
  });
  const us = (x: number | undefined): string => (x ?? 0).toFixed(2);
  rows.push(
    row(
      'inprocess/verify-steady',
      `verify in process, without the live-session check (${us(r.steadyUs)} µs)`,
      r.steadyPerSecond ?? 0,
    ),
    row(
      'inprocess/verify-live',
      `verify in process, with the live-session check (${us(r.liveUs)} µs; first use on another instance ${us(r.coldFirstUs)} µs)`,
      r.livePerSecond ?? 0,
    ),
  );
  log(`in-process verify: live-session check ${(r.ratio ?? 0).toFixed(2)} × the steady path`);
}

async function sqliteBlock(): Promise<void> {
  const prefix = `b${runId}s`;
  const server = await startPortcullis({ name: 'portcullis (SQLite)', cpus: ctx.serverCpus });
  const seeded = await withCodeClient(
    server.url,
    await seed(ctx, server.url, prefix, 256),
    registerCodeClient(server),
  );
  const ceiling = argon2Ceiling('sqlite');
  rows.push(...(await portcullisRows(ctx, server, 'sqlite', seeded, prefix, ceiling)));
  await server.stop();
  rows.push(ceiling.row());
  if (smoke) {
    server.removeDataDir();
    return;
  }
  // Before/after: the same server and tokens with the verified-token cache turned off.
  const same = { dataDir: server.dataDir, secretKey: server.secretKey, issuer: server.issuer };
  const nocache = await startPortcullis({
    ...same,
    name: 'portcullis (SQLite, no cache)',
    cpus: ctx.serverCpus,
    env: { VERIFIED_TOKEN_CACHE_SIZE: '0' },
  });
  rows.push(
    await measure(ctx, nocache, {
      id: 'sqlite/verify-nocache',
      label: 'verify, cache off: VERIFIED_TOKEN_CACHE_SIZE=0 (the before)',
      db: 'sqlite',
      script: 'get',
      connections: 64,
      params: { path: '/users/me', tokens: seeded.tokens },
      warmup: { path: '/users/me', tokens: seeded.tokens },
    }),
  );
  await nocache.stop();
  // The live-session cache off: the session is read from the sessions table on every request.
  const uncached = await startPortcullis({
    ...same,
    name: 'portcullis (SQLite, sessions read every time)',
    cpus: ctx.serverCpus,
    env: { LIVE_SESSION_CACHE_SIZE: '0' },
  });
  rows.push(
    await measure(ctx, uncached, {
      id: 'sqlite/verify-session-read',
      label: 'verify, LIVE_SESSION_CACHE_SIZE=0: the session read on every request',
      db: 'sqlite',
      script: 'get',
      connections: 64,
      params: { path: '/users/me', tokens: seeded.tokens },
      warmup: { path: '/users/me', tokens: seeded.tokens },
    }),
  );
  await uncached.stop();
  if (twoCores) {
    for (const workers of [1, 2]) {
      const cluster = await startPortcullis({
        ...same,
        name: `cluster ${workers}`,
        workers,
        cpus: undefined,
      });
      rows.push(
        await measure(ctx, cluster, {
          id: `cluster/workers-${workers}`,
          label: `serve --workers ${workers}: verify, unpinned`,
          db: null,
          script: 'get',
          connections: 64,
          params: { path: '/users/me', tokens: seeded.tokens },
          warmup: { path: '/users/me', tokens: seeded.tokens },
          cpus: undefined,
        }),
      );
      await cluster.stop();
    }
  }
  server.removeDataDir();
}

async function postgresBlock(): Promise<string> {
  const pg = await startPostgres(ctx.loadCpus);
  try {
    const prefix = `b${runId}p`;
    const ceiling = argon2Ceiling('postgres');
    const server = await startPortcullis({
      name: 'portcullis (PostgreSQL)',
      databaseUrl: await pg.createDatabase(),
      cpus: ctx.serverCpus,
    });
    try {
      const seeded = await withCodeClient(
        server.url,
        await seed(ctx, server.url, prefix, 256),
        registerCodeClient(server),
      );
      rows.push(...(await portcullisRows(ctx, server, 'postgres', seeded, prefix, ceiling)));
    } finally {
      await server.stop();
      server.removeDataDir();
    }
    rows.push(ceiling.row());
    return pg.note;
  } finally {
    await pg.stop();
  }
}

let postgresNote: string | null = null;
try {
  await baselines();
  if (dbs.includes('sqlite')) {
    await sqliteBlock();
    liveSessionRows();
  }
  if (dbs.includes('postgres')) postgresNote = await postgresBlock();
} finally {
  rmSync(ctx.dir, { recursive: true, force: true });
}

const checks = evaluate(rows);
const results: Results = {
  version: 1,
  when: new Date().toISOString(),
  mode: smoke ? 'smoke' : 'full',
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  machine,
  loadAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
  generator: generatorVersion(generator),
  placement: twoCores
    ? 'server pinned to CPU 0 (taskset), generator on CPU 1; cluster rows unpinned'
    : 'unpinned',
  postgres: postgresNote,
  seconds: ctx.seconds,
  warmupSeconds: ctx.warmupSeconds,
  elapsedSeconds: (performance.now() - started) / 1000,
  rows,
  checks,
};
const text = markdown(results);
console.log(text);

if (!smoke && values['no-publish'] !== true) {
  const dir = join(ROOT, 'bench');
  writeFileSync(join(dir, 'results', 'latest.json'), formatJson(results));
  writeFileSync(join(dir, 'chart.svg'), renderChart(results));
  const readme = join(dir, 'README.md');
  const current = readFileSync(readme, 'utf8');
  const updated = current.replace(
    /(<!-- results:start -->\n)[\s\S]*?(<!-- results:end -->)/,
    `$1${text}\n$2`,
  );
  writeFileSync(readme, updated);
  // The checked-in Markdown is kept as the formatter writes it (aligned tables), so biome ci passes.
  const biome = join(ROOT, 'node_modules', '.bin', 'biome');
  spawnSync(biome, ['format', '--write', readme], { cwd: ROOT, stdio: 'ignore' });
  log('wrote bench/results/latest.json, bench/chart.svg and the table in bench/README.md');
}

const failedRows = rows.filter((r) => r.errors > 0);
const missed = checks.filter((c) => !c.met);
for (const r of failedRows) log(`ERRORS: ${r.id} had ${r.errors} failed requests`);
if (!smoke) for (const c of missed) log(`MISSED: ${c.name} (${c.basis})`);
process.exitCode = failedRows.length > 0 || (!smoke && missed.length > 0) ? 1 : 0;
