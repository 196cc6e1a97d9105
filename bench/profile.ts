// Where a scenario's CPU goes: runs one scenario against a server started with `node --cpu-prof`
// (pinned like the bench), then prints the server's CPU per request by category and the heaviest
// functions. The evidence behind the closing notes of bench/README.md.
//
//   node bench/profile.ts refresh            # verify | floor | refresh | code | login (SQLite)
//   node bench/profile.ts verify --db postgres
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { codeBodies, registerCodeClient } from './lib/codes.ts';
import { runLoad, type Script } from './lib/generator.ts';
import { settle } from './lib/measure.ts';
import { startPostgres } from './lib/postgres.ts';
import { seed, withCodeClient } from './lib/scenarios.ts';
import { linesFile, logins } from './lib/seed.ts';
import { startPortcullis } from './lib/servers.ts';
import { cpuMs, hasCommand, threadCpuMs } from './lib/system.ts';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

// First match wins: the category of a sample is that of the innermost frame that matches one.
const CATEGORIES: Array<[string, (f: CallFrame) => boolean]> = [
  ['SQLite (node:sqlite calls)', (f) => /(src|dist)\/store\/sqlite(-writes)?\.[jt]s/.test(f.url)],
  ['PostgreSQL driver (pg)', (f) => /node_modules\/pg(-[a-z]+)?\//.test(f.url)],
  ['Kysely', (f) => /node_modules\/kysely\//.test(f.url)],
  [
    'crypto (sign, verify, HMAC, random)',
    (f) => /internal\/crypto|jose\/|jws-sign|verified-cache/.test(f.url),
  ],
  [
    'socket writes and reads (kernel)',
    (f) =>
      /^(writeUtf8String|writev|writeBuffer)$/.test(f.functionName) ||
      /stream_base_commons/.test(f.url),
  ],
  [
    'Fastify, HTTP parsing and routing',
    (f) =>
      /node_modules\/(fastify|find-my-way|@fastify|light-my-request|fast-)|_http_|node:http/.test(
        f.url,
      ),
  ],
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['Portcullis rules and routes', (f) => /\/(src|dist)\//.test(f.url)],
];

/** Only the samples taken while the load ran (both clocks are the system's monotonic clock, µs). */
function summarise(
  profile: Profile & { startTime: number },
  requests: number,
  from: number,
  to: number,
): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const categories = new Map<string, number>();
  const self = new Map<string, number>();
  // Inclusive: a sample counts once for every Portcullis function on its stack.
  const inclusive = new Map<string, number>();
  let busy = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (at < from || at > to) return;
    if (!node || node.callFrame.functionName === '(idle)') return;
    busy += dt;
    const name = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/^.*\/(node_modules|src|dist)\//, '$1/')}`;
    self.set(name, (self.get(name) ?? 0) + dt);
    let category = 'other (Node internals, promises, timers)';
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      const hit = frame && CATEGORIES.find(([, test]) => test(frame));
      if (hit) {
        category = hit[0];
        break;
      }
    }
    categories.set(category, (categories.get(category) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (!frame || !/\/(src|dist)\//.test(frame.url)) continue;
      const own = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(src|dist)\//, '')}`;
      if (seen.has(own)) continue;
      seen.add(own);
      inclusive.set(own, (inclusive.get(own) ?? 0) + dt);
    }
  });
  const us = (t: number): string => (t / requests).toFixed(1).padStart(7);
  const rows = [...categories].sort((a, b) => b[1] - a[1]);
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 30);
  return [
    `| where (µs of server CPU per request, ${requests} requests) | µs | share |`,
    '|---|--:|--:|',
    ...rows.map(([k, t]) => `| ${k} | ${us(t)} | ${((100 * t) / busy).toFixed(0)}% |`),
    `| **total** | ${us(busy)} | |`,
    '',
    'heaviest functions (self time):',
    ...top.map(([k, t]) => `  ${us(t)} µs  ${k}`),
    '',
    'Portcullis functions, inclusive (what they and their callees cost):',
    ...[...inclusive]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 40)
      .map(([k, t]) => `  ${us(t)} µs  ${k}`),
  ].join('\n');
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    db: { type: 'string', default: 'sqlite' },
    seconds: { type: 'string', default: '10' },
  },
});
const scenario = positionals[0] ?? 'verify';
const seconds = Number(values.seconds);
const pinned = cpus().length >= 2 && hasCommand('taskset');
const generator = hasCommand('wrk') ? 'wrk' : 'autocannon';
const dir = mkdtempSync(join(tmpdir(), 'portcullis-profile-'));
const profDir = join(dir, 'prof');
const pg = values.db === 'postgres' ? await startPostgres(pinned ? '1' : undefined) : undefined;
const server = await startPortcullis({
  name: 'portcullis (profiled)',
  cpus: pinned ? '0' : undefined,
  nodeFlags: ['--cpu-prof', '--cpu-prof-dir', profDir],
  ...(pg ? { databaseUrl: await pg.createDatabase() } : {}),
});
try {
  const prefix = `p${Date.now().toString(36).slice(-5)}`;
  const ctx = { dir, log: () => {} } as unknown as Parameters<typeof seed>[0];
  const s = await seed(ctx, server.url, prefix, 256);
  const plans: Record<
    string,
    { script: Script; connections: number; params: () => Promise<Record<string, string>> }
  > = {
    floor: { script: 'get', connections: 64, params: async () => ({ path: '/healthz' }) },
    verify: {
      script: 'get',
      connections: 64,
      params: async () => ({ path: '/users/me', tokens: s.tokens }),
    },
    login: { script: 'login', connections: 16, params: async () => ({ bodies: s.bodies }) },
    register: {
      script: 'register',
      connections: 16,
      params: async () => ({ prefix: `${prefix}g` }),
    },
    refresh: {
      script: 'refresh',
      connections: 16,
      params: async () => ({
        refresh: linesFile(
          dir,
          'seeds.txt',
          (await logins(server.url, s.users, 24)).map((p) => p.refresh_token),
        ),
      }),
    },
    code: {
      script: 'code',
      connections: 16,
      // Codes live 60 s and are single use: as many as 5 000 exchanges a second for the run, made
      // right before it (a code used twice is an error answer, which would profile the refusal).
      params: async () => {
        const { code } = await withCodeClient(server.url, s, registerCodeClient(server));
        if (!code) throw new Error('no code client');
        const n = 5_000 * seconds;
        const bodies = await codeBodies(server.url, code.clientId, code.cookies, n);
        return { codes: linesFile(dir, 'codes.txt', bodies) };
      },
    },
  };
  const plan = plans[scenario];
  if (!plan)
    throw new Error(
      `unknown scenario ${scenario}: floor, verify, login, register, refresh or code`,
    );
  const params = await plan.params();
  await settle(server.pid);
  const before = cpuMs(server.pid);
  const threadsBefore = threadCpuMs(server.pid);
  const from = Number(process.hrtime.bigint() / 1000n);
  const load = await runLoad(generator, {
    url: server.url,
    script: plan.script,
    connections: plan.connections,
    seconds,
    params,
    cpus: pinned ? '1' : undefined,
  });
  await settle(server.pid);
  const to = Number(process.hrtime.bigint() / 1000n);
  const used = cpuMs(server.pid) - before;
  const threads = [...threadCpuMs(server.pid)]
    .map(([name, ms]) => [name, ms - (threadsBefore.get(name) ?? 0)] as const)
    .filter(([, ms]) => ms > 0)
    .sort((a, b) => b[1] - a[1]);
  await server.stop();
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no profile was written');
  const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as Profile & {
    startTime: number;
  };
  // A profile of refusals (codes run out, a limit hit) would describe another path.
  if (load.errors > 0) throw new Error(`${load.errors} of ${load.requests} answers were errors`);
  console.log(
    `${scenario} on ${values.db}: ${load.requests} requests, ${load.rps.toFixed(0)} req/s, ` +
      `${((used * 1000) / load.requests).toFixed(0)} µs of server CPU each (/proc, all threads); ` +
      'below, the main thread only, as sampled (profiling slows it a little).\n',
  );
  console.log(
    `by thread (/proc, µs per request): ${threads.map(([n, ms]) => `${n} ${((ms * 1000) / load.requests).toFixed(0)}`).join(', ')}\n`,
  );
  console.log(summarise(profile, load.requests, from, to));
} finally {
  await server.stop();
  server.removeDataDir();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
}
