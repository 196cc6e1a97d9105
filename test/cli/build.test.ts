// The JavaScript build: `npm run build` writes dist/, `portcullis` runs it only while it is at least
// as new as every source file, and the built server answers like the sources do.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../support/process.ts';

const { pickEntry, STAMP } = (await import(pathToFileURL(join(ROOT, 'bin', 'entry.mjs')).href)) as {
  pickEntry(root: string): string;
  STAMP: string;
};

/** A fake checkout: src/ with two files, and optionally a dist/ build stamped at `builtAt`. */
function tree(options: { built?: boolean; stamp?: boolean; sourcesAt: number; builtAt: number }) {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-entry-'));
  mkdirSync(join(root, 'src', 'cli'), { recursive: true });
  mkdirSync(join(root, 'src', 'store'), { recursive: true });
  for (const file of ['src/cli/main.ts', 'src/store/users.ts']) {
    writeFileSync(join(root, file), '');
    utimesSync(join(root, file), options.sourcesAt, options.sourcesAt);
  }
  if (options.built) {
    mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
    writeFileSync(join(root, 'dist', 'cli', 'main.js'), '');
    if (options.stamp !== false) {
      writeFileSync(join(root, 'dist', STAMP), '');
      utimesSync(join(root, 'dist', STAMP), options.builtAt, options.builtAt);
    }
  }
  return root;
}

describe('which code portcullis runs', () => {
  const cases: Array<[string, Parameters<typeof tree>[0], string]> = [
    ['a build newer than the sources', { built: true, sourcesAt: 1000, builtAt: 2000 }, 'dist'],
    ['no build', { sourcesAt: 1000, builtAt: 2000 }, 'src'],
    ['a build older than one source', { built: true, sourcesAt: 3000, builtAt: 2000 }, 'src'],
    [
      'a build without its stamp (interrupted)',
      { built: true, stamp: false, sourcesAt: 1000, builtAt: 2000 },
      'src',
    ],
  ];
  for (const [name, options, expected] of cases) {
    it(`${name}: ${expected}`, () => {
      const root = tree(options);
      try {
        const entry = pickEntry(root);
        assert.equal(
          entry,
          expected === 'dist'
            ? join(root, 'dist', 'cli', 'main.js')
            : join(root, 'src', 'cli', 'main.ts'),
        );
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }

  it('one edited source file makes the whole build stale', () => {
    const root = tree({ built: true, sourcesAt: 1000, builtAt: 2000 });
    try {
      assert.match(pickEntry(root), /dist/);
      utimesSync(join(root, 'src', 'store', 'users.ts'), 2500, 2500);
      assert.match(pickEntry(root), /src/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
