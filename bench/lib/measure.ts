// One measured row: an optional warm-up, then the load, with the server's CPU time and peak RSS
// sampled from /proc over the measured window.
import { type GeneratorName, type LoadResult, runLoad, type Script } from './generator.ts';
import { cpuMs, processTree, rssSampler } from './system.ts';

export type Db = 'sqlite' | 'postgres';

export interface Row {
  /** Stable key, e.g. sqlite/verify, baseline/fastify-jwt-es256, cluster/workers-2. */
  id: string;
  label: string;
  db: Db | null;
  connections: number;
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  peakRssMiB: number;
  /** CPU the server used in % of one core (100 = one core saturated). */
  serverCpuPct: number;
  /** Server CPU time per request, in microseconds: the cost, whatever else the machine did. */
  cpuUsPerRequest: number;
  generatorCpuPct: number;
}

export interface Ctx {
  generator: GeneratorName;
  seconds: number;
  warmupSeconds: number;
  /** CPU list of the server under test and of the generator (undefined: unpinned). */
  serverCpus: string | undefined;
  loadCpus: string | undefined;
  /** Scratch directory for token files. */
  dir: string;
  log(message: string): void;
}

export interface Target {
  pid: number;
  url: string;
}

export interface LoadPlan {
  id: string;
  label: string;
  db: Db | null;
  script: Script;
  connections: number;
  params: Record<string, string>;
  /** Parameters of the warm-up run (single-use tokens need their own); no warm-up when absent. */
  warmup?: Record<string, string>;
  seconds?: number;
  /** Generator CPU list, when it differs from ctx.loadCpus (the cluster rows leave it free). */
  cpus?: string | undefined;
  /** Start at once, even though the server is busy (a probe run beside other load). */
  busy?: boolean;
}

function treeCpuMs(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + cpuMs(pid), 0);
}

export function toRow(
  plan: Pick<LoadPlan, 'id' | 'label' | 'db' | 'connections'>,
  load: LoadResult,
  server: { cpuMs: number; peakRssMiB: number },
): Row {
  return {
    id: plan.id,
    label: plan.label,
    db: plan.db,
    connections: plan.connections,
    requests: load.requests,
    rps: load.rps,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    errors: load.errors,
    peakRssMiB: server.peakRssMiB,
    serverCpuPct: (server.cpuMs / (load.seconds * 1000)) * 100,
    cpuUsPerRequest: load.requests > 0 ? (server.cpuMs * 1000) / load.requests : 0,
    generatorCpuPct: load.generatorCpuPct,
  };
}

/**
 * Waits until the server has finished what the previous run left in flight (slow requests outlive
 * the generator), so that their CPU time is not charged to the next row: at most 10 s.
 */
export async function settle(root: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  let last = treeCpuMs(root);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    const now = treeCpuMs(root);
    if (now - last < 10) return;
    last = now;
  }
}

export async function measure(ctx: Ctx, target: Target, plan: LoadPlan): Promise<Row> {
  if (!plan.busy) await settle(target.pid);
  const cpus = 'cpus' in plan ? plan.cpus : ctx.loadCpus;
  const base = { url: target.url, script: plan.script, connections: plan.connections, cpus };
  if (plan.warmup && ctx.warmupSeconds > 0) {
    await runLoad(ctx.generator, { ...base, seconds: ctx.warmupSeconds, params: plan.warmup });
    await settle(target.pid);
  }
  const before = treeCpuMs(target.pid);
  const rss = rssSampler(target.pid);
  const load = await runLoad(ctx.generator, {
    ...base,
    seconds: plan.seconds ?? ctx.seconds,
    params: plan.params,
  });
  const peakRssMiB = rss.stop();
  const row = toRow(plan, load, { cpuMs: treeCpuMs(target.pid) - before, peakRssMiB });
  ctx.log(
    `${row.id.padEnd(34)} ${row.rps.toFixed(0).padStart(7)} req/s  p99 ${row.p99Ms.toFixed(1)} ms` +
      `  errors ${row.errors}  server ${row.serverCpuPct.toFixed(0)}% cpu`,
  );
  return row;
}
