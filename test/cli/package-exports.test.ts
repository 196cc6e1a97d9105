// The package as another service imports it: `portcullis/guard` resolves to the JavaScript build
// (Node strips no types under node_modules), and what it exports is the guard.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureBuild } from '../support/build.ts';
import { ROOT } from '../support/process.ts';

describe('the package exports', () => {
  // The exports point at dist/: build it here rather than rely on `npm test` having done so.
  before(ensureBuild);
  for (const specifier of ['portcullis', 'portcullis/guard']) {
    it(`${specifier} resolves to JavaScript in dist/ and exports the guard`, async () => {
      const resolved = fileURLToPath(import.meta.resolve(specifier));
      assert.match(resolved, /\/dist\/guard\/index\.js$/);
      const guard = (await import(specifier)) as Record<string, unknown>;
      for (const name of ['createVerifier', 'fastifyGuard', 'expressGuard', 'requireScopes']) {
        assert.equal(typeof guard[name], 'function', name);
      }
    });
  }

  it('the packed package holds the guard and the token rules it imports, as JavaScript', () => {
    const packed = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(packed.status, 0, packed.stderr);
    const [report] = JSON.parse(packed.stdout) as Array<{ files: Array<{ path: string }> }>;
    const files = new Set(report?.files.map((f) => f.path));
    for (const file of [
      'dist/guard/index.js',
      'dist/guard/middleware.js',
      'dist/guard/verifier.js',
      'dist/tokens/rules.js',
    ]) {
      assert.ok(files.has(file), `${file} is in the package`);
    }
  });
});
