// The autocannon twin of bench/wrk/*.lua, used when wrk is not installed: the same scripts, the
// same BENCH_RESULT line. Run as `node autocannon-runner.ts '<LoadSpec JSON>'`.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { LoadSpec } from './generator.ts';

interface Histogram {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}
interface Result {
  requests: { total: number };
  duration: number;
  latency: Histogram;
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface OutRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}
type Autocannon = (options: Record<string, unknown>) => Promise<Result>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const p = spec.params;
const lines = (file: string | undefined): string[] =>
  file ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

const tokens = lines(p.tokens);
const bodies = lines(p.bodies);
const pool = lines(p.refresh);
const codes = lines(p.codes);
const form = 'application/x-www-form-urlencoded';
let turn = 0;
let made = 0;
let address = 0;
const xff = (): string => {
  address++;
  const n = address % 4096;
  return `10.${Math.floor(n / 256) % 256}.${n % 256}.${1 + (address % 250)}`;
};

function get(path: string): OutRequest {
  if (tokens.length === 0) return { method: 'GET', path, headers: {} };
  turn = (turn + 1) % tokens.length;
  return { method: 'GET', path, headers: { authorization: `Bearer ${tokens[turn]}` } };
}
const refresh = (): OutRequest => ({
  method: 'POST',
  path: '/token',
  headers: { 'content-type': form, 'x-forwarded-for': xff() },
  body: `grant_type=refresh_token&refresh_token=${pool.pop() ?? 'spent'}`,
});
// Single-use codes, as code.lua: a spent code once the pool is empty, so that it shows as errors.
const code = (): OutRequest => ({
  method: 'POST',
  path: '/token',
  headers: { 'content-type': form, 'x-forwarded-for': xff() },
  body: codes.pop() ?? 'grant_type=authorization_code&code=spent',
});
const login = (): OutRequest => ({
  method: 'POST',
  path: '/token',
  headers: { 'content-type': form, 'x-forwarded-for': xff() },
  body: bodies[made++ % bodies.length] ?? '',
});
function register(prefix: string): OutRequest {
  const name = `${prefix}n${++made}`;
  return {
    method: 'POST',
    path: '/register',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': xff() },
    body: JSON.stringify({
      email: `${name}@example.com`,
      username: name,
      password: p.password ?? 'correct horse battery staple',
    }),
  };
}

// The mixed plan of mixed.lua, per 200 requests: 175 verify, 20 refresh, 4 login, 1 register.
const plan = [
  ...Array<string>(175).fill('verify'),
  ...Array<string>(20).fill('refresh'),
  ...Array<string>(4).fill('login'),
  'register',
];
let step = 0;

function next(): OutRequest {
  switch (spec.script) {
    case 'get':
    case 'probe':
      return get(p.path ?? '/');
    case 'login':
      return login();
    case 'register':
      return register(p.prefix ?? 'u');
    case 'refresh':
      return refresh();
    case 'code':
      return code();
    case 'mixed': {
      step = (step + 7) % plan.length;
      const kind = plan[step];
      if (kind === 'refresh' && pool.length > 0) return refresh();
      if (kind === 'login') return login();
      if (kind === 'register') return register(p.prefix ?? 'm');
      return get('/users/me');
    }
  }
}

const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.seconds,
  timeout: 30,
  ...(spec.script === 'probe' ? { connectionRate: 1000 / Number(p.delay ?? '5') } : {}),
  requests: [
    {
      setupRequest: (request: OutRequest): OutRequest => ({ ...request, ...next() }),
      onResponse: (_status: number, body: string): void => {
        const successor = /"refresh_token":"([^"]+)"/.exec(body)?.[1];
        if (successor) pool.push(successor);
      },
    },
  ],
});
const us = (ms: number): number => Math.round(ms * 1000);
const line = {
  requests: result.requests.total,
  duration_us: Math.round(result.duration * 1e6),
  connect: result.errors - result.timeouts,
  read: 0,
  write: 0,
  status: result.non2xx,
  timeout: result.timeouts,
  p50_us: us(result.latency.p50),
  p90_us: us(result.latency.p90),
  p99_us: us(result.latency.p99),
  max_us: us(result.latency.max),
};
console.log(`BENCH_RESULT ${JSON.stringify(line)}`);
