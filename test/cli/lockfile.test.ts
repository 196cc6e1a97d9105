// The lockfile installs with `npm ci` on any machine: it once lacked other platforms' optional
// packages (@biomejs/cli-*, @node-rs/bcrypt-*), so `npm ci` refused it on a fresh clone and every CI
// or image build that uses it stopped, while `npm install` quietly rewrote it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../support/process.ts';

interface Locked {
  version?: string;
  optionalDependencies?: Record<string, string>;
}

/** Where npm would find `name` for the package at `from` (nested first, then each parent). */
function resolves(packages: Record<string, Locked>, from: string, name: string): boolean {
  let dir = from;
  for (;;) {
    if (packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true;
    if (dir === '') return false;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up < 0 ? '' : dir.slice(0, up);
  }
}

describe('npm ci on a fresh clone (the lockfile lacked other platforms’ optional packages)', () => {
  it('every optional dependency of every locked package is itself in the lockfile', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, Locked>;
    };
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        if (!resolves(lock.packages, path, name))
          missing.push(`${name} (of ${path || 'the root'})`);
      }
    }
    assert.deepEqual(missing, [], 'npm ci refuses a lockfile without these');
  });

  it('npm ci accepts package.json and package-lock.json as committed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-lock-'));
    try {
      for (const file of ['package.json', 'package-lock.json']) {
        copyFileSync(join(ROOT, file), join(dir, file));
      }
      // A dry run checks the lockfile against package.json for every platform, installs nothing.
      const ci = spawnSync(
        'npm',
        ['ci', '--dry-run', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'],
        { cwd: dir, encoding: 'utf8' },
      );
      assert.equal(ci.status, 0, `npm ci refused the lockfile:\n${ci.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
