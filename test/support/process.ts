// Running the real `portcullis` command and server as child processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempPgDatabase, type TestDatabase } from './postgres.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'portcullis.mjs');

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `portcullis ARGS` with the given environment (nothing inherited but PATH and HOME). */
export function cli(
  args: string[],
  env: Record<string, string>,
  input?: string,
  cwd = ROOT,
): Promise<Ran> {
  return run(process.execPath, [BIN, ...args], env, input, cwd);
}

export function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  input?: string,
  cwd = ROOT,
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Start `portcullis serve` (or any args) and wait for its "listening" line. */
export function serveProcess(
  env: Record<string, string>,
  args: string[] = ['serve'],
  cwd = ROOT,
): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start:\n${output}`));
    }, 60_000);
    let listening = false;
    const onData = (d: Buffer) => {
      output += d;
      // Under load the request log grows without end: keep its tail once the server is up.
      if (listening) output = output.slice(-65_536);
      if (listening) return;
      const match = /listening at (http:\/\/[\d.:[\]a-f]+)/i.exec(output);
      if (match?.[1]) {
        listening = true;
        clearTimeout(timer);
        resolve({
          url: match[1],
          child,
          output: () => output,
          stop: async (signal = 'SIGTERM') => {
            child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${output}`));
    });
  });
}

export interface CliWorld {
  dataDir: string;
  /** The environment every command and the server run with. */
  env: Record<string, string>;
  /** What `portcullis migrate` printed when the world was made. */
  migrated: Ran;
  server: ServerProcess;
  close(): Promise<void>;
}

/**
 * A database of `db` migrated by the real `portcullis migrate`, and a real server on it, for the
 * suites that run the CLI as operators do. `extra` adds settings to both.
 */
export async function cliWorld(
  db: TestDatabase,
  prefix: string,
  extra: Record<string, string> = {},
): Promise<CliWorld> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const pg = db === 'postgres' ? await createTempPgDatabase() : undefined;
  const env = {
    DATA_DIR: dataDir,
    DATABASE_URL: pg?.url ?? `sqlite:${join(dataDir, 'portcullis.db')}`,
    PORT: '0',
    ISSUER: 'http://localhost:8000',
    NODE_ENV: 'test',
    PASSWORD_HASH_MEMORY_KIB: '1024',
    PASSWORD_HASH_TIME_COST: '1',
    LOG_LEVEL: 'info',
    ...extra,
  };
  const migrated = await cli(['migrate'], env);
  if (migrated.code !== 0) throw new Error(`portcullis migrate failed: ${migrated.stderr}`);
  const server = await serveProcess(env);
  return {
    dataDir,
    env,
    migrated,
    server,
    async close() {
      await server.stop();
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
