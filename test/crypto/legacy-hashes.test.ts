// scrypt and PBKDF2 hashes written by passlib and werkzeug (test/fixtures/make-import-hashes.py)
// verify, refuse the wrong password and ask for a rehash; hostile parameters are refused unrun.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createPasswordHasher, hashFormat, TEST_PARAMS } from '../../src/crypto/passwords.ts';

interface Case {
  label: string;
  hash: string;
  password: string;
  wrong: string;
}
const fixtures = JSON.parse(
  readFileSync(new URL('../fixtures/import-hashes.json', import.meta.url), 'utf8'),
) as { cases: Case[] };
const legacy = JSON.parse(
  readFileSync(new URL('../fixtures/legacy-hashes.json', import.meta.url), 'utf8'),
) as { cases: Case[] };

const hasher = createPasswordHasher(TEST_PARAMS);

describe('scrypt and PBKDF2 hashes of other systems', () => {
  it('the fixture covers both libraries and both algorithms', () => {
    const labels = fixtures.cases.map((c) => c.label).join(' ');
    for (const kind of [
      'passlib-scrypt',
      'passlib-pbkdf2-sha256',
      'passlib-pbkdf2-sha512',
      'passlib-pbkdf2-sha1',
      'werkzeug-pbkdf2',
      'werkzeug3-scrypt',
    ]) {
      assert.match(labels, new RegExp(kind));
    }
  });

  for (const c of fixtures.cases) {
    it(`${c.label}: verifies, refuses the wrong password, needs a rehash`, async () => {
      assert.equal(hashFormat(c.hash), c.label.includes('scrypt') ? 'scrypt' : 'pbkdf2');
      assert.equal(await hasher.verify(c.hash, c.password), true);
      assert.equal(await hasher.verify(c.hash, c.wrong), false);
      assert.equal(await hasher.verify(c.hash, ''), false);
      assert.equal(hasher.needsRehash(c.hash), true);
    });
  }

  it('hashFormat knows the passlib bcrypt and argon2 hashes too, and argon2id of our own', async () => {
    for (const c of legacy.cases) {
      assert.equal(hashFormat(c.hash), c.label.startsWith('bcrypt') ? 'bcrypt' : 'argon2', c.label);
    }
    assert.equal(hashFormat(await hasher.hash('x')), 'argon2');
  });

  it('a changed salt, key or parameter no longer verifies', async () => {
    const c = fixtures.cases.find((x) => x.label === 'werkzeug-pbkdf2-sha256');
    const p = fixtures.cases.find((x) => x.label === 'passlib-pbkdf2-sha256');
    assert.ok(c && p);
    const flip = (h: string, i: number) =>
      `${h.slice(0, i)}${h[i] === 'a' ? 'b' : 'a'}${h.slice(i + 1)}`;
    assert.equal(await hasher.verify(flip(c.hash, c.hash.length - 1), c.password), false);
    assert.equal(await hasher.verify(c.hash.replace('260000', '260001'), c.password), false);
    assert.equal(await hasher.verify(c.hash.replace('$', '$x'), c.password), false);
    assert.equal(await hasher.verify(p.hash.replace('29000', '29001'), p.password), false);
  });

  it('refuses, without running them, hashes that are malformed or ask for too much work', async () => {
    const hostile = [
      `pbkdf2:sha256:99999999$salt$${'ab'.repeat(32)}`, // 100 million iterations
      `pbkdf2:sha256:0$salt$${'ab'.repeat(32)}`,
      `pbkdf2:md5:1000$salt$${'ab'.repeat(16)}`,
      `pbkdf2:sha256:1000$salt$${'ab'.repeat(31)}`, // key shorter than the digest
      `pbkdf2:sha256:1000$$${'ab'.repeat(32)}`,
      `pbkdf2:sha256$salt$${'ab'.repeat(32)}`, // no iteration count
      `scrypt:1048576:64:1$salt$${'ab'.repeat(64)}`, // 8 GiB
      `scrypt:1000:8:1$salt$${'ab'.repeat(64)}`, // N not a power of two
      `scrypt:32768:8:99$salt$${'ab'.repeat(64)}`,
      `scrypt:32768:8:1$salt$${'abc'.repeat(21)}`, // odd hex
      `$scrypt$ln=30,r=8,p=1$c2FsdA$${'A'.repeat(43)}`,
      '$scrypt$ln=16,r=8,p=1$c2FsdA$',
      `$pbkdf2-sha256$99999999$c2FsdA$${'A'.repeat(43)}`,
      `$pbkdf2-sha256$29000$c2FsdA$${'A'.repeat(30)}`,
      `$pbkdf2-md5$29000$c2FsdA$${'A'.repeat(22)}`,
      'sha256$salt$abc',
      'plain$$secret',
      '',
    ];
    for (const h of hostile) {
      assert.equal(hashFormat(h), undefined, h);
      const started = performance.now();
      assert.equal(await hasher.verify(h, 'password'), false, h);
      assert.ok(performance.now() - started < 50, `${h} was run`);
    }
  });
});
