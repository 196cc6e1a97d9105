// The load generator: wrk (Debian's package) running the Lua scripts of bench/wrk/, or autocannon
// (a dev dependency) running their twins in autocannon-runner.ts when wrk is missing. Either way it
// runs under bash so that `times` reports the generator's own CPU time afterwards.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type Script = 'get' | 'probe' | 'login' | 'register' | 'refresh' | 'code' | 'mixed';
export type GeneratorName = 'wrk' | 'autocannon';

export interface LoadSpec {
  /** Base URL of the server under test, e.g. http://127.0.0.1:8123 */
  url: string;
  script: Script;
  connections: number;
  seconds: number;
  /** key=value parameters of the script (path, tokens file, …). */
  params: Record<string, string>;
  /** taskset CPU list for the generator; undefined leaves it unpinned. */
  cpus: string | undefined;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Socket errors, timeouts and answers ≥ 400. */
  errors: number;
  /** CPU the generator used, in % of one core. */
  generatorCpuPct: number;
}

interface RawResult {
  requests: number;
  duration_us: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  max_us: number;
}

const WRK_DIR = fileURLToPath(new URL('../wrk/', import.meta.url));
const RUNNER = fileURLToPath(new URL('./autocannon-runner.ts', import.meta.url));

function command(generator: GeneratorName, spec: LoadSpec): string[] {
  const pin = spec.cpus ? ['taskset', '-c', spec.cpus] : [];
  if (generator === 'autocannon') {
    return [...pin, process.execPath, RUNNER, JSON.stringify(spec)];
  }
  const params = Object.entries(spec.params).map(([k, v]) => `${k}=${v}`);
  return [
    ...pin,
    'wrk',
    '-t1',
    `-c${spec.connections}`,
    `-d${spec.seconds}s`,
    '--timeout',
    '30s',
    '-s',
    `${WRK_DIR}${spec.script}.lua`,
    spec.url,
    '--',
    ...params,
  ];
}

/** Seconds of CPU the shell's children used, from the second line of bash's `times`. */
function childCpuSeconds(times: string): number {
  const line = times.trim().split('\n')[1] ?? '';
  let total = 0;
  for (const match of line.matchAll(/(\d+)m([\d.]+)s/g)) {
    total += Number(match[1]) * 60 + Number(match[2]);
  }
  return total;
}

/** Runs a command under bash and returns what it printed and the CPU seconds it used. */
export async function runTimed(command: string[]): Promise<{ out: string; cpuSeconds: number }> {
  const script = 'set +e; "$@"; rc=$?; echo BENCH_TIMES; times; exit $rc';
  const child = spawn('bash', ['-c', script, 'bench-load', ...command], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    throw new Error(
      `${command.join(' ').slice(0, 200)} failed (${code}):\n${out.slice(-2000)}\n${err.slice(-2000)}`,
    );
  }
  const marker = out.indexOf('BENCH_TIMES');
  return { out, cpuSeconds: childCpuSeconds(out.slice(marker + 'BENCH_TIMES'.length)) };
}

export async function runLoad(generator: GeneratorName, spec: LoadSpec): Promise<LoadResult> {
  const { out, cpuSeconds } = await runTimed(command(generator, spec));
  const json = /BENCH_RESULT (\{.*\})/.exec(out)?.[1];
  if (json === undefined) throw new Error(`${generator} printed no result:\n${out.slice(-2000)}`);
  const raw = JSON.parse(json) as RawResult;
  const seconds = raw.duration_us / 1e6;
  return {
    requests: raw.requests,
    seconds,
    rps: raw.requests / seconds,
    p50Ms: raw.p50_us / 1000,
    p90Ms: raw.p90_us / 1000,
    p99Ms: raw.p99_us / 1000,
    maxMs: raw.max_us / 1000,
    errors: raw.connect + raw.read + raw.write + raw.status + raw.timeout,
    generatorCpuPct: (cpuSeconds / seconds) * 100,
  };
}
