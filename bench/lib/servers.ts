// The processes under test: Portcullis itself (`portcullis serve`, as a user runs it) and the
// baselines of bench/baselines/, each pinned with taskset and stopped with SIGTERM.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Running {
  name: string;
  url: string;
  pid: number;
  /** Everything the process printed (for errors). */
  output(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitUntilUp(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}):\n${output()}`);
    try {
      const answer = await fetch(url);
      await answer.arrayBuffer();
      if (answer.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no answer from ${url} within 60 s:\n${output()}`);
}

export interface StartOptions {
  name: string;
  args: string[];
  env: Record<string, string>;
  /** taskset CPU list; undefined leaves the process on every core. */
  cpus: string | undefined;
  port: number;
  readyPath: string;
  /** Run this file as a command (its shebang decides how) instead of `node ARGS`. */
  executable?: string;
}

/** Starts `node ARGS` (pinned when cpus is given) and waits until readyPath answers 2xx. */
export async function startNode(options: StartOptions): Promise<Running> {
  const node = options.executable
    ? [options.executable, ...options.args]
    : [process.execPath, ...options.args];
  const [command, ...args] = options.cpus ? ['taskset', '-c', options.cpus, ...node] : node;
  const child = spawn(command as string, args, {
    cwd: ROOT,
    // The project's Node 24 first on the PATH, as under npm run / npx.
    env: {
      PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? '/tmp',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const keep = (d: Buffer): void => {
    text = (text + d.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const output = (): string => text;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${options.port}`;
  try {
    await waitUntilUp(url + options.readyPath, child, output);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${options.name}: ${(error as Error).message}`);
  }
  return {
    name: options.name,
    url,
    pid: child.pid as number,
    output,
    async stop(): Promise<void> {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

let built = false;

/** The bench measures what `npm install` leaves: the JavaScript build, rebuilt if src/ is newer. */
async function ensureBuilt(): Promise<void> {
  if (built) return;
  const { pickEntry } = (await import(join(ROOT, 'bin', 'entry.mjs'))) as {
    pickEntry(root: string): string;
  };
  if (!pickEntry(ROOT).endsWith('.js')) {
    spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
    if (!pickEntry(ROOT).endsWith('.js')) throw new Error('npm run build did not produce dist/');
  }
  built = true;
}

export interface PortcullisOptions {
  name: string;
  databaseUrl?: string;
  /** Reuse this data directory (and its SQLite database and keys). */
  dataDir?: string;
  secretKey?: string;
  /** Keep the issuer of an earlier server on the same data, so its tokens stay valid here. */
  issuer?: string;
  workers?: number;
  /** Extra Node flags (e.g. --cpu-prof): then Node is run explicitly, with the bin's own flags too. */
  nodeFlags?: string[];
  cpus: string | undefined;
  env?: Record<string, string>;
}

export interface PortcullisServer extends Running {
  issuer: string;
  dataDir: string;
  secretKey: string;
  databaseUrl: string;
  removeDataDir(): void;
}

/**
 * `portcullis serve` run as users run it (the bin file as a command, so its shebang's Node flags
 * apply), in production mode with the defaults: ES256, argon2id at the OWASP parameters.
 */
export async function startPortcullis(options: PortcullisOptions): Promise<PortcullisServer> {
  await ensureBuilt();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  const secretKey = options.secretKey ?? randomBytes(32).toString('hex');
  const databaseUrl = options.databaseUrl ?? `sqlite:${join(dataDir, 'portcullis.db')}`;
  const port = await freePort();
  const workers = options.workers === undefined ? [] : ['--workers', String(options.workers)];
  const issuer = options.issuer ?? `http://127.0.0.1:${port}`;
  const bin = join(ROOT, 'bin', 'portcullis.mjs');
  // PORTCULLIS_BENCH_NODE_FLAGS: extra Node/V8 flags for experiments (bench/README.md).
  const extra = (process.env.PORTCULLIS_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const nodeFlags = [...(options.nodeFlags ?? []), ...extra];
  const launch =
    nodeFlags.length > 0
      ? { args: [...shebangFlags(bin), ...nodeFlags, bin, 'serve', ...workers] }
      : { executable: bin, args: ['serve', ...workers] };
  const running = await startNode({
    name: options.name,
    ...launch,
    cpus: options.cpus,
    port,
    readyPath: '/healthz',
    env: {
      NODE_ENV: 'production',
      SECRET_KEY: secretKey,
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      ISSUER: issuer,
      // Request logs would measure the log pipe; warnings and errors are still logged.
      LOG_LEVEL: 'warn',
      // The generators send X-Forwarded-For from a spread of addresses, as a load balancer would,
      // so per-address rate limits see many clients rather than one loopback address.
      TRUST_PROXY: '127.0.0.1',
      ...options.env,
    },
  });
  return {
    ...running,
    issuer,
    dataDir,
    secretKey,
    databaseUrl,
    removeDataDir: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** The Node flags of a script's `#!/usr/bin/env -S node FLAGS` line. */
function shebangFlags(file: string): string[] {
  const first = readFileSync(file, 'utf8').split('\n')[0] ?? '';
  return first
    .replace(/^#!.*?\bnode\b/, '')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
}

/** A baseline from bench/baselines/, given its port in PORT. */
export async function startBaseline(
  name: string,
  file: string,
  args: string[],
  cpus: string | undefined,
  readyPath = '/',
): Promise<Running> {
  const port = await freePort();
  return startNode({
    name,
    args: [join(ROOT, 'bench', 'baselines', file), ...args],
    env: { PORT: String(port) },
    cpus,
    port,
    readyPath,
  });
}
