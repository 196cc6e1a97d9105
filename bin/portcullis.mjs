#!/usr/bin/env -S node --max-semi-space-size=4
// The `portcullis` command. Portcullis runs on Node 24; when an older node starts this file
// (npx on a machine with Node 20 on the PATH), re-run it with the pinned Node 24 of the project.
// --max-semi-space-size (in MiB): V8's young generation grows far larger by default under load than
// a server's short-lived request objects need (bench/README.md has the measurements). Cluster workers inherit it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pickEntry } from './entry.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
if (major >= 24) {
  await import(pathToFileURL(pickEntry(join(here, '..'))).href);
} else {
  const pinned = join(here, '..', 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    console.error(
      `portcullis needs Node.js 24 or newer (this is ${process.version}); run npm install first.`,
    );
    process.exit(1);
  }
  const args = [
    '--max-semi-space-size=4',
    fileURLToPath(import.meta.url),
    ...process.argv.slice(2),
  ];
  const result = spawnSync(pinned, args, {
    stdio: 'inherit',
  });
  process.exit(result.status ?? 1);
}
