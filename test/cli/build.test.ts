// The JavaScript build: `portcullis` runs dist/ only when it was built from exactly the sources in
// src/ (bin/entry.mjs), whatever the files' modification times say.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ensureBuild } from '../support/build.ts';
import { ROOT } from '../support/process.ts';

const { pickEntry, sourceFingerprint, STAMP } = (await import(
  pathToFileURL(join(ROOT, 'bin', 'entry.mjs')).href
)) as {
  pickEntry(root: string): string;
  sourceFingerprint(root: string): string;
  STAMP: string;
};

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A fake checkout: two source files and, if asked, a build stamped with `stamp`. */
function checkout(stamp?: (root: string) => string): string {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-entry-'));
  roots.push(root);
  mkdirSync(join(root, 'src', 'cli'), { recursive: true });
  mkdirSync(join(root, 'src', 'store'), { recursive: true });
  writeFileSync(join(root, 'src', 'cli', 'main.ts'), 'export {};\n');
  writeFileSync(join(root, 'src', 'store', 'users.ts'), 'export const a = 1;\n');
  if (stamp) {
    mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
    writeFileSync(join(root, 'dist', 'cli', 'main.js'), 'export {};\n');
    writeFileSync(join(root, 'dist', STAMP), `${stamp(root)}\n`);
  }
  return root;
}

const dist = (root: string) => join(root, 'dist', 'cli', 'main.js');
const src = (root: string) => join(root, 'src', 'cli', 'main.ts');

describe('which code portcullis runs', () => {
  it('a build of these very sources: dist', () => {
    const root = checkout(sourceFingerprint);
    assert.equal(pickEntry(root), dist(root));
  });

  it('no build: src', () => {
    const root = checkout();
    assert.equal(pickEntry(root), src(root));
  });

  it('a build without its stamp (interrupted): src', () => {
    const root = checkout(sourceFingerprint);
    unlinkSync(join(root, 'dist', STAMP));
    assert.equal(pickEntry(root), src(root));
  });

  it('a build of other sources: src', () => {
    const root = checkout(() => 'f'.repeat(64));
    assert.equal(pickEntry(root), src(root));
  });

  it('one edited byte, an added file or a renamed one makes the build stale', () => {
    const root = checkout(sourceFingerprint);
    const users = join(root, 'src', 'store', 'users.ts');
    writeFileSync(users, 'export const a = 2;\n');
    assert.equal(pickEntry(root), src(root));
    writeFileSync(users, 'export const a = 1;\n');
    assert.equal(pickEntry(root), dist(root), 'the same contents again');
    writeFileSync(join(root, 'src', 'store', 'extra.ts'), '');
    assert.equal(pickEntry(root), src(root));
    unlinkSync(join(root, 'src', 'store', 'extra.ts'));
    writeFileSync(join(root, 'src', 'store', 'users2.ts'), 'export const a = 1;\n');
    unlinkSync(users);
    assert.equal(pickEntry(root), src(root));
  });

  it('modification times do not matter (npm extracts a package in any order)', () => {
    const root = checkout(sourceFingerprint);
    utimesSync(join(root, 'dist', STAMP), 1000, 1000);
    utimesSync(join(root, 'src', 'cli', 'main.ts'), 2_000_000_000, 2_000_000_000);
    assert.equal(pickEntry(root), dist(root));
  });

  // It once passed only after `npm test` had built dist/: it builds (or finds current) itself now.
  it('this checkout, once built by scripts/build.mjs, runs its build', async () => {
    await ensureBuild();
    assert.equal(pickEntry(ROOT), join(ROOT, 'dist', 'cli', 'main.js'));
  });
});
