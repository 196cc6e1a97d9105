#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=30
// The `portcullis` command. Portcullis runs on Node 24; when an older node starts this file
// (npx on a machine with Node 20 on the PATH), re-run it with the pinned Node 24 of the project.
// --max-semi-space-size=4 (MiB): V8's young generation grows to 32 MiB by default under load; a
// server's requests die young in far less. --heap-growing-percent=30: V8 lets the old generation
// grow to 1.5–4 × what survived the last full collection before the next one; on PostgreSQL,
// requests waiting for the database outlive young collections and are promoted, so resident memory
// climbed 60 MiB under load. Collecting at 1.3 × keeps `serve` under 150 MiB for a few % more
// collector time (bench/README.md). Cluster workers inherit both.
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
    '--heap-growing-percent=30',
    fileURLToPath(import.meta.url),
    ...process.argv.slice(2),
  ];
  const result = spawnSync(pinned, args, {
    stdio: 'inherit',
  });
  process.exit(result.status ?? 1);
}
