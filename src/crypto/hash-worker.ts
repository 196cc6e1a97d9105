// One password-hashing thread of the pool in hash-pool.ts: argon2id and bcrypt, computed
// synchronously here so that the event loop and libuv's shared thread pool never wait on them.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import * as argon2 from '@node-rs/argon2';
import * as bcrypt from '@node-rs/bcrypt';
import type { HashJob, HashReply } from './hash-pool.ts';

/** This thread's kernel id on Linux (`/proc/thread-self` → `PID/task/TID`), else undefined. */
function ownThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

// Availability: a login storm must not starve token verification on the same core, so hashing
// threads run at a lower scheduling priority (Linux nice applies per thread; no privilege needed
// to lower it). Where that is impossible they still run off the event loop.
const tid = ownThreadId();
let nice: number | undefined;
if (tid !== undefined) {
  try {
    setPriority(tid, (workerData as { nice: number }).nice);
    nice = (workerData as { nice: number }).nice;
  } catch {
    nice = undefined;
  }
}

function run(job: HashJob): string | boolean {
  switch (job.op) {
    case 'argon2-hash':
      return argon2.hashSync(job.password, job.options);
    case 'argon2-verify':
      return argon2.verifySync(job.hash, job.password);
    case 'bcrypt-verify':
      return bcrypt.verifySync(job.password, job.hash);
  }
}

const port = parentPort;
if (!port) throw new Error('hash-worker.ts runs only as a worker thread');
port.postMessage({ id: 0, ok: true, value: true, tid, nice } satisfies HashReply);
port.on('message', (job: HashJob) => {
  let reply: HashReply;
  try {
    reply = { id: job.id, ok: true, value: run(job) };
  } catch (error) {
    // The message only: never the job, which holds the password.
    reply = { id: job.id, ok: false, message: error instanceof Error ? error.message : 'failed' };
  }
  port.postMessage(reply);
});
