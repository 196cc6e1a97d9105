// The verified-token cache's own rules: bounded (oldest out first), exact keys, off at size 0, and
// its setting.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import type { AccessClaims } from '../../src/tokens/access-token.ts';
import { createVerifiedTokenCache, type VerifiedEntry } from '../../src/tokens/verified-cache.ts';

function entry(n: number): VerifiedEntry {
  return {
    claims: { sub: `u${n}` } as AccessClaims,
    nbf: undefined,
    kid: 'k',
    key: new Uint8Array(32),
  };
}

describe('createVerifiedTokenCache', () => {
  test('never holds more than its size; the oldest entry goes first', () => {
    const cache = createVerifiedTokenCache(3);
    for (let i = 0; i < 10; i++) cache.set(`t${i}`, entry(i));
    assert.equal(cache.size, 3);
    assert.equal(cache.get('t6'), undefined);
    assert.deepEqual(
      ['t7', 't8', 't9'].map((t) => cache.get(t)?.claims.sub),
      ['u7', 'u8', 'u9'],
    );
    // Replacing a present key evicts nothing.
    cache.set('t8', entry(80));
    assert.equal(cache.size, 3);
    assert.equal(cache.get('t7')?.claims.sub, 'u7');
  });

  test('keys are exact strings: no prefix, case or whitespace variant finds an entry', () => {
    const cache = createVerifiedTokenCache(10);
    cache.set('abc.def.ghi', entry(1));
    for (const other of [
      'abc.def.gh',
      'abc.def.ghi ',
      'ABC.def.ghi',
      'abc.def.ghi.',
      ' abc.def.ghi',
    ]) {
      assert.equal(cache.get(other), undefined, other);
    }
    assert.equal(cache.get('abc.def.ghi')?.claims.sub, 'u1');
    cache.delete('abc.def.ghi');
    assert.equal(cache.get('abc.def.ghi'), undefined);
  });

  test('size 0 keeps nothing; a negative or fractional size is refused', () => {
    const cache = createVerifiedTokenCache(0);
    cache.set('t', entry(1));
    assert.equal(cache.size, 0);
    assert.equal(cache.get('t'), undefined);
    assert.throws(() => createVerifiedTokenCache(-1), RangeError);
    assert.throws(() => createVerifiedTokenCache(1.5), RangeError);
  });
});

describe('VERIFIED_TOKEN_CACHE_SIZE', () => {
  const load = (value?: string) =>
    loadConfig({
      env: {
        NODE_ENV: 'test',
        // Given, so that no secret.key is written into the shared temporary directory.
        SECRET_KEY: 'a test secret of more than thirty-two bytes',
        DATA_DIR: tmpdir(),
        ...(value === undefined ? {} : { VERIFIED_TOKEN_CACHE_SIZE: value }),
      },
      envFileDir: null,
    });

  test('defaults to 10 000; 0 turns the cache off', () => {
    assert.equal(load().verifiedTokenCacheSize, 10_000);
    assert.equal(load('0').verifiedTokenCacheSize, 0);
  });

  test('anything but a whole number up to 1 000 000 stops the start naming the variable', () => {
    for (const bad of ['-1', '1.5', 'lots', '1000001']) {
      assert.throws(
        () => load(bad),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, /VERIFIED_TOKEN_CACHE_SIZE/);
          return true;
        },
      );
    }
  });
});
