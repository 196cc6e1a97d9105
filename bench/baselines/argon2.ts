// Baseline: the ceiling for login and register — this process only computes argon2id hashes with
// Portcullis's parameters, `concurrency` at a time on libuv's pool (as many threads as it has
// cores, the size of Portcullis's own hashing pool), for `seconds`. Prints one BENCH_ARGON2 line.
import { availableParallelism } from 'node:os';
import * as argon2 from '@node-rs/argon2';
import { DEFAULT_PARAMS } from '../../src/crypto/passwords.ts';

const seconds = Number(process.argv[2] ?? '5');
const concurrency = Number(process.argv[3] ?? '16');
const options = { ...DEFAULT_PARAMS, algorithm: 2 as argon2.Algorithm, outputLen: 32 };
const latencies: number[] = [];
const started = performance.now();
const end = started + seconds * 1000;

async function lane(): Promise<void> {
  while (performance.now() < end) {
    const t = performance.now();
    await argon2.hash('correct horse battery staple', options);
    latencies.push(performance.now() - t);
  }
}

await Promise.all(Array.from({ length: concurrency }, lane));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q: number): number =>
  latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
const usage = process.resourceUsage();
console.log(
  `BENCH_ARGON2 ${JSON.stringify({
    hashes: latencies.length,
    seconds: elapsed,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    maxRssMiB: usage.maxRSS / 1024,
    threads: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    cores: availableParallelism(),
  })}`,
);
