// A PostgreSQL cluster and a Redis server of the test's own, which it may stop and start again (the
// outage suites). The shared servers of PORTCULLIS_TEST_PG_URL and PORTCULLIS_TEST_REDIS_URL are
// never stopped: other test files run on them at the same time.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT, run } from './process.ts';

export interface Stoppable {
  url: string;
  /** Stops the server; clients see their connections closed and new ones refused. */
  stop(): Promise<void>;
  /** Starts it again on the same port (and, for PostgreSQL, the same data). */
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  close(): Promise<void>;
}

/** A port that was free a moment ago (loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A throwaway PostgreSQL cluster on a free loopback port, made by the same script CI uses
 * (`.ci/postgres.sh`, which runs it as the `postgres` OS user when the tests run as root).
 */
export async function privatePostgres(): Promise<Stoppable> {
  const port = await freePort();
  const made = await run('bash', [join(ROOT, '.ci', 'postgres.sh')], {
    PG_PORT: String(port),
    TMPDIR: process.env.TMPDIR ?? '/tmp',
  });
  if (made.code !== 0) throw new Error(`postgres.sh failed:\n${made.stderr}`);
  // "ready; stop with: [runuser -u postgres -- ]BIN/pg_ctl -D DIR/data stop"
  const match = /stop with: (runuser -u postgres -- )?(\S+\/pg_ctl) -D (\S+) stop/.exec(
    made.stderr,
  );
  if (!match?.[2] || !match[3])
    throw new Error(`postgres.sh did not say how to stop:\n${made.stderr}`);
  const [asPostgres, pgCtl, data] = [Boolean(match[1]), match[2], match[3]];
  const pgctl = async (...args: string[]) => {
    const [command, argv] = asPostgres
      ? ['runuser', ['-u', 'postgres', '--', pgCtl, '-D', data, ...args]]
      : [pgCtl, ['-D', data, ...args]];
    const done = await run(command, argv, {});
    if (done.code !== 0) throw new Error(`pg_ctl ${args.join(' ')}: ${done.stdout}${done.stderr}`);
  };
  const log = join(data, '..', 'postgres.log');
  let running = true;
  return {
    url: made.stdout.trim(),
    async stop() {
      // fast: the server ends every session (clients see their connections closed), like a restart.
      await pgctl('-m', 'fast', '-w', '-t', '60', 'stop');
      running = false;
    },
    async start() {
      await pgctl('-l', log, '-w', '-t', '60', 'start');
      running = true;
    },
    async close() {
      if (running) await pgctl('-m', 'immediate', '-w', '-t', '60', 'stop').catch(() => {});
      rmSync(join(data, '..'), { recursive: true, force: true });
    },
  };
}

/** A Redis server of its own on a free loopback port, without persistence (a restart empties it). */
export async function privateRedis(): Promise<Stoppable> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(
        () => reject(new Error(`redis-server did not start:\n${output}`)),
        30_000,
      );
      started.stdout?.on('data', (d: Buffer) => {
        output += d;
        if (/ready to accept connections/i.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${output}`));
      });
    });
    started.stdout?.resume();
    started.removeAllListeners('exit');
    child = started;
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL'); // a dead Redis, not a polite shutdown: clients learn it from the socket
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, stop, start, close: stop };
}
