// A small pool of dedicated password-hashing threads, one per usable core, shared by the process.
//
// Why not @node-rs/argon2's async API: it runs on libuv's shared pool (4 threads), where a login
// storm fills every thread with 20 ms hashes, so file, DNS and WebCrypto jobs queue behind them,
// and the hashing threads compete with the event loop at equal priority on a busy core. Here they
// have threads of their own, at a lower priority (see hash-worker.ts).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export type HashJob = { id: number } & (
  | {
      op: 'argon2-hash';
      password: string;
      options: { memoryCost: number; timeCost: number; parallelism: number; algorithm: number };
    }
  | { op: 'argon2-verify'; hash: string; password: string }
  | { op: 'bcrypt-verify'; hash: string; password: string }
);

export type HashReply =
  | { id: number; ok: true; value: string | boolean; tid?: number | undefined; nice?: number }
  | { id: number; ok: false; message: string };

type JobInput = HashJob extends infer J ? (J extends HashJob ? Omit<J, 'id'> : never) : never;

export interface HashPool {
  run(job: JobInput): Promise<string | boolean>;
  /** Kernel thread ids and nice values of the started threads (Linux), for tests and diagnostics. */
  threads(): Promise<Array<{ tid: number | undefined; nice: number | undefined }>>;
}

/** Lower than the event loop's 0: a runnable event loop thread wins the core (nice 10 ≈ 10:1). */
export const HASH_THREAD_NICE = 10;

interface Slot {
  worker: Worker;
  ready: Promise<{ tid: number | undefined; nice: number | undefined }>;
  busy: boolean;
}

interface Pending {
  job: HashJob;
  resolve: (value: string | boolean) => void;
  reject: (error: Error) => void;
}

export function createHashPool(size: number): HashPool {
  const slots: Slot[] = [];
  const queue: Pending[] = [];
  const inFlight = new Map<Slot, Pending>();
  let nextId = 1;

  function start(): Slot {
    const worker = new Worker(new URL('./hash-worker.ts', import.meta.url), {
      workerData: { nice: HASH_THREAD_NICE },
      name: 'portcullis-hash',
    });
    let markReady: (info: { tid: number | undefined; nice: number | undefined }) => void = () => {};
    const slot: Slot = { worker, busy: false, ready: new Promise((r) => (markReady = r)) };
    worker.on('message', (reply: HashReply) => {
      if (reply.id === 0 && reply.ok) {
        markReady({ tid: reply.tid, nice: reply.nice });
        return;
      }
      const pending = inFlight.get(slot);
      inFlight.delete(slot);
      slot.busy = false;
      if (pending) {
        if (reply.ok) pending.resolve(reply.value);
        else pending.reject(new Error(reply.message));
      }
      dispatch();
    });
    worker.on('error', (error) => retire(slot, error));
    worker.on('exit', (code) => retire(slot, new Error(`hash thread exited (${code})`)));
    slots.push(slot);
    return slot;
  }

  function retire(slot: Slot, error: Error): void {
    const index = slots.indexOf(slot);
    if (index < 0) return;
    slots.splice(index, 1);
    const pending = inFlight.get(slot);
    inFlight.delete(slot);
    pending?.reject(error);
    dispatch();
  }

  function dispatch(): void {
    while (queue.length > 0) {
      const slot = slots.find((s) => !s.busy) ?? (slots.length < size ? start() : undefined);
      if (!slot) break;
      const pending = queue.shift() as Pending;
      slot.busy = true;
      inFlight.set(slot, pending);
      // A thread with work keeps the process alive; an idle one does not.
      slot.worker.ref();
      slot.worker.postMessage(pending.job);
    }
    for (const slot of slots) if (!slot.busy) slot.worker.unref();
  }

  return {
    run(input) {
      return new Promise((resolve, reject) => {
        queue.push({ job: { ...input, id: nextId++ } as HashJob, resolve, reject });
        dispatch();
      });
    },
    async threads() {
      return Promise.all(slots.map((s) => s.ready));
    },
  };
}

let shared: HashPool | undefined;

/** The process's pool: as many threads as cores this process may use (its CPU affinity). */
export function sharedHashPool(): HashPool {
  shared ??= createHashPool(Math.max(1, availableParallelism()));
  return shared;
}
