// Verify's latency idle and during a login storm, measured in alternating windows so that a change
// in the machine's other load affects both sides alike: the storm (16 connections logging in) is
// on for one window, off for the next, while a light probe (4 connections, each pausing between
// requests) reads GET /users/me throughout. Samples of the first part of each window are dropped:
// logins in flight when the storm stops are still hashing. Run as a child process, pinned to the
// generator's core: `node storm-runner.ts '<StormSpec JSON>'`; prints one BENCH_STORM line.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

export interface StormSpec {
  url: string;
  tokens: string;
  bodies: string;
  seconds: number;
  windowMs: number;
  settleMs: number;
  probeConnections: number;
  probePauseMs: number;
  stormConnections: number;
}

export interface StormResult {
  idle: { n: number; p50Ms: number; p99Ms: number };
  storm: { n: number; p50Ms: number; p99Ms: number };
  logins: number;
  loginSeconds: number;
  errors: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as StormSpec;
const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const tokens = lines(spec.tokens);
const bodies = lines(spec.bodies);
const target = new URL(spec.url);
const probeAgent = new Agent({ keepAlive: true, maxSockets: spec.probeConnections });
const stormAgent = new Agent({ keepAlive: true, maxSockets: spec.stormConnections });

function send(
  agent: Agent,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, method, path, headers, agent },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const started = performance.now();
const end = started + spec.seconds * 1000;
const stormOn = (t: number): boolean => Math.floor((t - started) / spec.windowMs) % 2 === 1;
const settled = (t: number): boolean => (t - started) % spec.windowMs >= spec.settleMs;
const idle: number[] = [];
const storm: number[] = [];
let logins = 0;
let errors = 0;
let turn = 0;

async function probe(): Promise<void> {
  while (performance.now() < end) {
    const token = tokens[turn++ % tokens.length] as string;
    const t = performance.now();
    const status = await send(probeAgent, 'GET', '/users/me', {
      authorization: `Bearer ${token}`,
    }).catch(() => 0);
    if (status !== 200) errors++;
    else if (settled(t)) (stormOn(t) ? storm : idle).push(performance.now() - t);
    await new Promise((r) => setTimeout(r, spec.probePauseMs));
  }
}

async function login(lane: number): Promise<void> {
  // Each lane logs in its own accounts (lane, lane + width, …): the lockout lets one check per
  // account run at a time, so two lanes on one account would be refused.
  let k = 0;
  while (performance.now() < end) {
    if (!stormOn(performance.now())) {
      await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    const n = lane + spec.stormConnections * k++;
    const body = bodies[n % bodies.length] as string;
    const status = await send(
      stormAgent,
      'POST',
      '/token',
      {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': `10.77.${lane}.${n % 250}`,
      },
      body,
    ).catch(() => 0);
    if (status === 200) logins++;
    else errors++;
  }
}

await Promise.all([
  ...Array.from({ length: spec.probeConnections }, probe),
  ...Array.from({ length: spec.stormConnections }, (_, i) => login(i)),
]);

function summary(samples: number[]): StormResult['idle'] {
  samples.sort((a, b) => a - b);
  const at = (q: number): number =>
    samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  return { n: samples.length, p50Ms: at(0.5), p99Ms: at(0.99) };
}

const windows = Math.floor((spec.seconds * 1000) / spec.windowMs);
const result: StormResult = {
  idle: summary(idle),
  storm: summary(storm),
  logins,
  loginSeconds: (Math.floor(windows / 2) * spec.windowMs) / 1000,
  errors,
};
console.log(`BENCH_STORM ${JSON.stringify(result)}`);
probeAgent.destroy();
stormAgent.destroy();
