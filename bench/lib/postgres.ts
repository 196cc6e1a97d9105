// PostgreSQL for the bench: a throwaway cluster started by .ci/postgres.sh on its own port, pinned
// to the generator's core so that it never takes CPU from the server under test; or the server
// named by PORTCULLIS_BENCH_PG_URL (not pinned by us). One fresh database per Portcullis server.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { ROOT } from './servers.ts';

export interface BenchPostgres {
  adminUrl: string;
  /** How it runs, for the report. */
  note: string;
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

async function admin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export async function startPostgres(cpus: string | undefined): Promise<BenchPostgres> {
  const given = process.env.PORTCULLIS_BENCH_PG_URL?.trim();
  let adminUrl: string;
  let note: string;
  let stopCommand: string[] | undefined;
  let clusterDir: string | undefined;
  if (given) {
    adminUrl = given;
    note = 'PORTCULLIS_BENCH_PG_URL (placement not controlled by the bench)';
  } else {
    const script = join(ROOT, '.ci', 'postgres.sh');
    const command = cpus ? ['taskset', '-c', cpus, 'bash', script] : ['bash', script];
    const child = spawn(command[0] as string, command.slice(1), {
      env: { ...process.env, PG_PORT: process.env.PORTCULLIS_BENCH_PG_PORT ?? '54339' },
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
    const code = await new Promise<number | null>((r) => child.on('close', r));
    if (code !== 0) throw new Error(`.ci/postgres.sh failed (${code}):\n${err.slice(-2000)}`);
    adminUrl = out.trim().split('\n').pop() ?? '';
    // Only a cluster this run started is stopped at the end; a reused one is left as found.
    const stop = /stop with: (.*pg_ctl -D \S+ stop)/.exec(err)?.[1];
    stopCommand = stop ? [...stop.split(' '), '-m', 'fast'] : undefined;
    const dataDir = /pg_ctl -D (\S+) stop/.exec(stop ?? '')?.[1];
    clusterDir = dataDir ? dirname(dataDir) : undefined;
    note = stop
      ? `throwaway cluster (.ci/postgres.sh), pinned to CPU ${cpus ?? 'any'} with the generator`
      : 'an already running cluster on the bench port, reused as found';
  }
  const databases: string[] = [];
  return {
    adminUrl,
    note,
    async createDatabase(): Promise<string> {
      const name = `portcullis_bench_${randomBytes(6).toString('hex')}`;
      await admin(adminUrl, `CREATE DATABASE "${name}"`);
      databases.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async stop(): Promise<void> {
      for (const name of databases.splice(0)) {
        await admin(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
      }
      if (stopCommand) {
        execFileSync(stopCommand[0] as string, stopCommand.slice(1), { stdio: 'ignore' });
        if (clusterDir) rmSync(clusterDir, { recursive: true, force: true });
      }
    },
  };
}
