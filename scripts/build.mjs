// `npm run build` (and `npm install`, through "prepare"): compiles src/ to dist/ with tsc
// (tsconfig.build.json). Type errors are printed but do not stop the build or the install: types
// are checked by `npm run typecheck` and CI; a build only has to run. dist/.build-stamp marks a
// complete build, so bin/entry.mjs never picks a half-written one.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules', '.bin', 'tsc');
if (!existsSync(tsc)) {
  console.error('build: TypeScript is not installed (npm install --omit=dev?): running from src/');
  process.exit(0);
}
rmSync(join(root, 'dist'), { recursive: true, force: true });
const result = spawnSync(tsc, ['-p', join(root, 'tsconfig.build.json')], {
  cwd: root,
  stdio: 'inherit',
});
if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  console.error(`build: tsc wrote no dist/cli/main.js (exit ${result.status}): running from src/`);
  process.exit(0);
}
if (result.status !== 0) console.error('build: tsc reported type errors; dist/ was written anyway');
writeFileSync(join(root, 'dist', '.build-stamp'), `${new Date().toISOString()}\n`);
