// Which code `portcullis` runs: the JavaScript build in dist/ (made by `npm run build`, which
// `npm install` runs) when it is at least as new as every file under src/, else the TypeScript
// sources themselves. Both behave the same; the build starts faster and keeps about 28 MiB less
// resident, because Node need not load its TypeScript stripper (bench/README.md).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const STAMP = '.build-stamp';

/** The newest modification time (ms) of any file below dir; 0 when it is missing. */
function newest(dir) {
  let latest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** The file to import for the CLI below root: dist/cli/main.js if fresh, else src/cli/main.ts. */
export function pickEntry(root) {
  const built = join(root, 'dist', 'cli', 'main.js');
  const stamp = join(root, 'dist', STAMP);
  // A build older than any source would run code other than what is checked out: use the sources.
  if (
    existsSync(built) &&
    existsSync(stamp) &&
    statSync(stamp).mtimeMs >= newest(join(root, 'src'))
  )
    return built;
  return join(root, 'src', 'cli', 'main.ts');
}
