// What the bench reads from the machine: /proc (CPU time, RSS, process trees), the CPU model, and
// whether a command exists. Linux only, like taskset.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of utime/stime in /proc/PID/stat (100 on every Linux in practice). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** A /proc/…/stat file: the command name (which may hold spaces) and the fields after it. */
function readStat(path: string): { name: string; fields: string[] } | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    const end = text.lastIndexOf(')');
    return { name: text.slice(text.indexOf('(') + 1, end), fields: text.slice(end + 2).split(' ') };
  } catch {
    return undefined;
  }
}

const statFields = (pid: number): string[] | undefined => readStat(`/proc/${pid}/stat`)?.fields;

/** utime + stime of stat fields, in milliseconds. After the name: state(0) … utime(11) stime(12). */
const fieldsCpuMs = (fields: string[]): number =>
  ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();

/** CPU time (user + system, every thread) of a process in milliseconds; 0 once it is gone. */
export function cpuMs(pid: number): number {
  const fields = statFields(pid);
  return fields ? fieldsCpuMs(fields) : 0;
}

/** CPU time (ms) of a process's threads, summed by thread name (libuv-worker, V8 workers, …). */
export function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const stat = readStat(`/proc/${pid}/task/${tid}/stat`);
    if (!stat) continue; // the thread ended
    const name = tid === String(pid) ? 'main thread' : stat.name;
    out.set(name, (out.get(name) ?? 0) + fieldsCpuMs(stat.fields));
  }
  return out;
}

/** The process and all its descendants (a cluster's workers), by scanning /proc. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(Number(name));
    if (!fields) continue;
    const ppid = Number(fields[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Resident set size in MiB (0 once the process is gone). */
export function rssMiB(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples the summed RSS of a process tree every 100 ms; stop() gives the peak. */
export function rssSampler(root: number): { stop(): number } {
  let peak = 0;
  let pids = processTree(root);
  const sample = (): void => {
    const total = pids.reduce((sum, pid) => sum + rssMiB(pid), 0);
    peak = Math.max(peak, total);
  };
  sample();
  let ticks = 0;
  const timer = setInterval(() => {
    // Workers can be replaced; re-read the tree now and then.
    if (++ticks % 20 === 0) pids = processTree(root);
    sample();
  }, 100);
  return {
    stop(): number {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  /** Load averages (1, 5, 15 min) when the run started: above ~0.5 the machine was not quiet. */
  loadAtStart: number[];
  freeMemoryGiB: number;
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    loadAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    freeMemoryGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
  };
}
