// Which code `portcullis` runs: the JavaScript build in dist/ (made by `npm run build`, which
// `npm install` runs) when it was built from exactly the sources now in src/, else the TypeScript
// sources themselves. Both behave the same; the build starts faster and stays smaller in memory,
// because Node need not load its TypeScript stripper (bench/README.md). Installed from
// the registry, where Node strips no types under node_modules, only the build runs.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export const STAMP = '.build-stamp';

function files(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files(path, out);
    else out.push(path);
  }
  return out;
}

/**
 * A digest of every file under src/ (names and contents). Modification times would be cheaper
 * but lie: git checkouts and npm's tarball extraction set them in whatever order they write.
 */
export function sourceFingerprint(root) {
  const src = join(root, 'src');
  const hash = createHash('sha256');
  for (const file of files(src)) {
    hash.update(relative(src, file));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** The file to import for the CLI below root: dist/cli/main.js if built from these sources. */
export function pickEntry(root) {
  const built = join(root, 'dist', 'cli', 'main.js');
  const stamp = join(root, 'dist', STAMP);
  // A build of other sources would run code other than what is checked out: use the sources.
  if (existsSync(built) && existsSync(stamp)) {
    const builtFrom = readFileSync(stamp, 'utf8').trim();
    if (builtFrom === sourceFingerprint(root)) return built;
  }
  return join(root, 'src', 'cli', 'main.ts');
}
