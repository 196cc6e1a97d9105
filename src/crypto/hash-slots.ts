// Where password hashes run: on libuv's thread pool (the async APIs of @node-rs/argon2 and bcrypt),
// off the event loop, with two rules so that a login storm never starves token verification:
//
// 1. At most (pool size − 1) hashes at a time, and no more than the cores this process may use;
//    the rest wait here, in order. One pool thread always stays free for the other pool work (file
//    reads, DNS, WebCrypto verification), and hashes never time-slice one core: argon2id's working
//    set (as large as its memory cost) is evicted from the cache at every switch, so each hash
//    would take longer.
// 2. The pool's threads run at a lower scheduling priority than the event loop (Linux nice is per
//    thread, and lowering it needs no privilege): on a busy core the event loop thread wins, so
//    cheap requests keep their latency while hashes take what is left.
//
// Dedicated worker threads would do the same but cost a V8 isolate (and its heap) each.
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, getPriority, setPriority } from 'node:os';

/** How much lower than the event loop: enough that the event loop wins a busy core by far. */
export const POOL_NICE_STEP = 10;
const MAX_NICE = 19;
// libuv's default when UV_THREADPOOL_SIZE is unset.
const DEFAULT_POOL_SIZE = 4;

export interface HashSlots {
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Hashes allowed at once. */
  readonly width: number;
  /** Hashes waiting for a slot. */
  readonly waiting: number;
}

function poolSize(): number {
  const raw = Number(process.env.UV_THREADPOOL_SIZE);
  return Number.isInteger(raw) && raw > 0 ? Math.min(raw, 1024) : DEFAULT_POOL_SIZE;
}

/** Thread ids of libuv's pool threads (named "libuv-worker" by libuv on Linux). */
export function poolThreadIds(): number[] {
  try {
    return readdirSync('/proc/self/task')
      .map(Number)
      .filter((tid) => {
        try {
          return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'libuv-worker';
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

const lowered = new Set<number>();

/** Lowers the priority of the pool's threads, as they appear (at most one /proc scan per hash). */
function lowerPoolPriority(): void {
  if (lowered.size >= poolSize()) return;
  for (const tid of poolThreadIds()) {
    if (lowered.has(tid)) continue;
    lowered.add(tid);
    try {
      setPriority(tid, Math.min(MAX_NICE, getPriority(tid) + POOL_NICE_STEP));
    } catch {
      // Not permitted or not Linux: hashing still runs off the event loop, at equal priority.
    }
  }
}

export function createHashSlots(width: number): HashSlots {
  let busy = 0;
  const waiting: Array<() => void> = [];
  return {
    width,
    get waiting() {
      return waiting.length;
    },
    async run<T>(work: () => Promise<T>): Promise<T> {
      // A finishing hash hands its slot straight to the next in line, so `busy` never overshoots.
      if (busy < width) busy++;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await work();
      } finally {
        lowerPoolPriority();
        const next = waiting.shift();
        if (next) next();
        else busy--;
      }
    },
  };
}

let shared: HashSlots | undefined;

/** The process's slots: one fewer than libuv's pool threads, at most its cores, at least one. */
export function hashSlots(): HashSlots {
  shared ??= createHashSlots(Math.max(1, Math.min(poolSize() - 1, availableParallelism())));
  return shared;
}
