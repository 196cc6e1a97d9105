// `portcullis serve [--workers N|auto]`: build the app and listen; with workers, one process per core.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { type Config, loadConfig } from '../config/index.ts';
import { buildApp } from '../server/app.ts';
import { isPostgresUrl } from '../store/database.ts';
import { withServices } from './context.ts';

function workerCount(raw: string | undefined): number {
  if (raw === undefined) return 0;
  if (raw === 'auto') return availableParallelism();
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 256)
    throw new Error('--workers must be a number from 1 to 256, or auto');
  return Number(raw);
}

export async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { workers: { type: 'string' } } });
  const workers = cluster.isPrimary ? workerCount(values.workers) : 0;
  const config = loadConfig();
  if (workers > 0) return primary(config, workers);
  await listen(config);
  return 0;
}

async function primary(config: Config, workers: number): Promise<number> {
  // Migrate and create the first key once, before the workers race to do it.
  await withServices(async () => undefined);
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code) => {
    if (stopping) return;
    console.error(`worker ${worker.process.pid} exited (${code}); starting another`);
    cluster.fork();
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  console.log(
    `Portcullis primary ${process.pid}: ${workers} workers on http://${config.host}:${config.port}`,
  );
  return 0;
}

/**
 * On PostgreSQL, requests waiting for the database outlive V8's young collections and are
 * promoted, and V8 lets the old generation grow to several times what survived the last full
 * collection before collecting it: a busy server climbs well above its resting size. Collecting
 * earlier keeps it near that size. On SQLite (no wait) the growth does not happen and the earlier
 * collections only cost throughput, so it is left alone (bench/README.md has the measurements).
 */
export function tuneHeap(databaseUrl: string): void {
  if (isPostgresUrl(databaseUrl)) setFlagsFromString('--heap-growing-percent=30');
}

async function listen(config: Config): Promise<void> {
  tuneHeap(config.databaseUrl);
  const app = await buildApp(config);
  const close = async (signal: string) => {
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    // Fastify's close waits for in-flight requests and answers new ones 503.
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void close('SIGTERM'));
  process.once('SIGINT', () => void close('SIGINT'));
  const address = await app.listen({ host: config.host, port: config.port });
  if (!cluster.isWorker || cluster.worker?.id === 1) app.log.info(startupSummary(config, address));
}

function startupSummary(config: Config, address: string): string {
  const database = config.databaseUrl.startsWith('sqlite:')
    ? config.databaseUrl
    : 'PostgreSQL (DATABASE_URL)';
  const secret = {
    environment: 'SECRET_KEY from the environment',
    'data-dir': `SECRET_KEY from ${config.dataDir}/secret.key`,
    generated: `SECRET_KEY generated in ${config.dataDir}/secret.key`,
  }[config.secretSource];
  return [
    `Portcullis listening on ${address} (issuer ${config.issuer})`,
    `database: ${database}; signing keys: ${config.algorithm}, kept in the database; ${secret}`,
    `mail: ${config.smtpUrl ? 'SMTP (SMTP_URL)' : `written to ${config.dataDir}/outbox/`}; docs: ${address}/docs`,
    'create the first superuser: npx portcullis user create --superuser --email you@example.com --username admin',
  ].join(' | ');
}
