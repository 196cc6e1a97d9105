// The JavaScript build for the suites that need it (the package exports, the build's own test): made
// here if dist/ is missing or stale, so those suites pass when run alone on a fresh clone and fail
// when the build is broken, instead of depending on `npm test` having built dist/ first.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './process.ts';

const LOCK = join(
  tmpdir(),
  `portcullis-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.lock`,
);
const STALE_LOCK_MS = 5 * 60_000;

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// Test files run in parallel processes: one builds at a time (two builds would swap dist/ under
// each other), the others wait and then find the build current.
function withLock<T>(work: () => T): T {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmdirSync(LOCK);
      } catch {
        // Released meanwhile.
      }
      if (Date.now() > deadline) throw new Error(`build lock ${LOCK} held for 3 minutes`);
      sleep(100);
    }
  }
  try {
    return work();
  } finally {
    rmdirSync(LOCK);
  }
}

/** Runs `npm run build` (scripts/build.mjs: a no-op when dist/ is current); fails unless dist/ is then
 *  the build of exactly these sources. */
export async function ensureBuild(): Promise<void> {
  const { pickEntry } = (await import(pathToFileURL(join(ROOT, 'bin', 'entry.mjs')).href)) as {
    pickEntry(root: string): string;
  };
  const result = withLock(() =>
    spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], {
      cwd: ROOT,
      encoding: 'utf8',
    }),
  );
  const said = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.status, 0, `scripts/build.mjs failed: ${said}`);
  // build.mjs falls back to src/ (exit 0) when tsc writes nothing: here that is a broken build.
  assert.equal(
    pickEntry(ROOT),
    join(ROOT, 'dist', 'cli', 'main.js'),
    `no current build in dist/ after scripts/build.mjs: ${said}`,
  );
}
