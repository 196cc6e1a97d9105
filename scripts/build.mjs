// `npm run build` (and `npm install`, through "prepare"): compiles src/ to dist/ with tsc
// (tsconfig.build.json). Type errors are printed but do not stop the build or the install: types
// are checked by `npm run typecheck` and CI; a build only has to run.
//
// A build that is already current is left alone (`--force` rebuilds anyway): npm may run "prepare"
// again while servers started from dist/ are running (npx does, in this directory). A new build is
// written beside dist/ and swapped in with two renames; dist/.build-stamp, written last, holds the
// digest of the sources it was built from, so bin/entry.mjs never picks a half-written or stale build.
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pickEntry, STAMP, sourceFingerprint } from '../bin/entry.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
if (!process.argv.includes('--force') && pickEntry(root).endsWith('.js')) process.exit(0);

const tsc = join(root, 'node_modules', '.bin', 'tsc');
if (!existsSync(tsc)) {
  console.error('build: TypeScript is not installed (npm install --omit=dev?): running from src/');
  process.exit(0);
}
// Taken before compiling: sources edited meanwhile leave a stamp that no longer matches them.
const fingerprint = sourceFingerprint(root);
const fresh = join(root, `dist.tmp-${process.pid}`);
rmSync(fresh, { recursive: true, force: true });
const result = spawnSync(tsc, ['-p', join(root, 'tsconfig.build.json'), '--outDir', fresh], {
  cwd: root,
  stdio: 'inherit',
});
if (!existsSync(join(fresh, 'cli', 'main.js'))) {
  rmSync(fresh, { recursive: true, force: true });
  console.error(`build: tsc wrote no cli/main.js (exit ${result.status}): running from src/`);
  process.exit(0);
}
if (result.status !== 0) console.error('build: tsc reported type errors; dist/ was written anyway');
writeFileSync(join(fresh, STAMP), `${fingerprint}\n`);
const old = join(root, `dist.old-${process.pid}`);
if (existsSync(dist)) renameSync(dist, old);
renameSync(fresh, dist);
rmSync(old, { recursive: true, force: true });
