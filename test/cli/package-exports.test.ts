// The package as another service imports it: `portcullis/guard` resolves to the JavaScript build
// (Node strips no types under node_modules), and what it exports is the guard.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

describe('the package exports', () => {
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
});
