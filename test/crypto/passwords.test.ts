// Password hashing: argon2id round trips, rehash decisions, hostile stored hashes, and hashes made
// by an outside implementation (passlib; see test/fixtures/make-legacy-hashes.py).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as argon2 from '@node-rs/argon2';
import * as bcrypt from '@node-rs/bcrypt';
import {
  createPasswordHasher,
  DEFAULT_PARAMS,
  OWASP_MINIMUM,
  TEST_PARAMS,
} from '../../src/crypto/passwords.ts';

interface LegacyCase {
  label: string;
  hash: string;
  password: string;
  wrong: string;
}
interface TruncationCase {
  label: string;
  hash: string;
  password: string;
  first72Bytes: string;
  sameFirst72OtherTail: string;
  passlib: { password: boolean; first72Bytes: boolean; sameFirst72OtherTail: boolean };
}
const fixtures = JSON.parse(
  readFileSync(new URL('../fixtures/legacy-hashes.json', import.meta.url), 'utf8'),
) as { cases: LegacyCase[]; bcryptTruncation: TruncationCase[] };

const hasher = createPasswordHasher(TEST_PARAMS);
const PASSWORD = 'hunter2hunter2';

describe('argon2id hashing', () => {
  test('round trip, and the hash carries its parameters', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    assert.match(hash, /^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.equal(await hasher.verify(hash, 'correct horse battery staple'), true);
    assert.equal(await hasher.verify(hash, 'correct horse battery stapl'), false);
    assert.equal(await hasher.verify(hash, 'Correct horse battery staple'), false);
    assert.equal(await hasher.verify(hash, ''), false);
  });

  test('two hashes of one password differ (random salt)', async () => {
    assert.notEqual(await hasher.hash('same password'), await hasher.hash('same password'));
  });

  test('the production default is the OWASP minimum and is encoded in the hash', async () => {
    assert.deepEqual(DEFAULT_PARAMS, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
    assert.deepEqual(OWASP_MINIMUM, DEFAULT_PARAMS);
    const hash = await createPasswordHasher(DEFAULT_PARAMS).hash('pw');
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  test('passwords are taken as given: no truncation, NUL kept, no normalisation, no trimming', async () => {
    const long = `${'x'.repeat(1000)}A`;
    const hash = await hasher.hash(long);
    assert.equal(await hasher.verify(hash, `${'x'.repeat(1000)}B`), false);
    assert.equal(await hasher.verify(hash, long), true);
    const withNul = await hasher.hash('ab\0cd');
    assert.equal(await hasher.verify(withNul, 'ab'), false);
    assert.equal(await hasher.verify(withNul, 'ab\0cd'), true);
    const nfc = await hasher.hash('caf\u00e9');
    assert.equal(await hasher.verify(nfc, 'cafe\u0301'), false);
    assert.equal(await hasher.verify(await hasher.hash('pw '), 'pw'), false);
  });

  test('invalid parameters are refused', () => {
    assert.throws(
      () => createPasswordHasher({ memoryCost: 4, timeCost: 1, parallelism: 1 }),
      RangeError,
    );
    assert.throws(
      () => createPasswordHasher({ memoryCost: 1024, timeCost: 0, parallelism: 1 }),
      RangeError,
    );
    assert.throws(
      () => createPasswordHasher({ memoryCost: 1024, timeCost: 1.5, parallelism: 1 }),
      RangeError,
    );
  });
});

describe('needsRehash', () => {
  test('current parameters: no; weaker parameters, other variants or bcrypt: yes', async () => {
    const strong = createPasswordHasher({ memoryCost: 2048, timeCost: 2, parallelism: 1 });
    assert.equal(strong.needsRehash(await strong.hash('pw')), false);
    assert.equal(hasher.needsRehash(await strong.hash('pw')), false, 'stronger than ours: kept');
    assert.equal(strong.needsRehash(await hasher.hash('pw')), true, 'memory and time below ours');
    const lowT = await argon2.hash('pw', { memoryCost: 2048, timeCost: 1, parallelism: 1 });
    assert.equal(strong.needsRehash(lowT), true);
    const argon2i = await argon2.hash('pw', {
      memoryCost: 4096,
      timeCost: 3,
      algorithm: 1 as argon2.Algorithm,
    });
    assert.equal(strong.needsRehash(argon2i), true);
    const v10 = await argon2.hash('pw', {
      memoryCost: 4096,
      timeCost: 3,
      version: 0 as argon2.Version,
    });
    assert.equal(strong.needsRehash(v10), true, 'argon2 version 0x10');
    const shortOutput = await argon2.hash('pw', { memoryCost: 4096, timeCost: 3, outputLen: 16 });
    assert.equal(strong.needsRehash(shortOutput), true, '16-byte digest');
    assert.equal(strong.needsRehash(await bcrypt.hash('pw', 4)), true);
    assert.equal(strong.needsRehash('garbage'), true);
  });
});

describe('hostile or broken stored hashes', () => {
  // Valid hashes of the password every case below tries, then broken one way each.
  const good = argon2.hashSync(PASSWORD, { memoryCost: 1024, timeCost: 1, parallelism: 1 });
  const bcryptGood = bcrypt.hashSync(PASSWORD, 4);
  const cases: Array<[string, string]> = [
    ['empty', ''],
    ['garbage', 'not a hash'],
    ['prefix only', '$argon2id$'],
    ['no salt', '$argon2id$v=19$m=1024,t=1,p=1$$abc'],
    ['salt too short', '$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA'],
    ['truncated digest', good.slice(0, -5)],
    ['digest with an extra char', `${good}x`],
    ['unknown algorithm', good.replace('argon2id', 'argon2x')],
    ['huge memory cost', good.replace('m=1024', 'm=4194304')],
    ['absurd memory cost', good.replace('m=1024', 'm=99999999999')],
    ['huge time cost', good.replace('t=1', 't=100000')],
    ['huge parallelism', good.replace('p=1', 'p=255')],
    ['bcrypt truncated', bcryptGood.slice(0, -1)],
    ['bcrypt cost 31', bcryptGood.replace('$04$', '$31$')],
    ['bcrypt cost 99', bcryptGood.replace('$04$', '$99$')],
    ['bcrypt $2x$', bcryptGood.replace('$2b$', '$2x$')],
    ['bcrypt $2$', bcryptGood.replace('$2b$', '$2$')],
    [
      'scrypt',
      '$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E',
    ],
    ['pbkdf2', 'pbkdf2_sha256$600000$salt$hash'],
    ['plain text equal to the password', PASSWORD],
    ['NUL bytes', '\0\0\0'],
  ];
  for (const [name, hash] of cases) {
    test(`${name} → false, no throw`, async () => {
      assert.equal(await hasher.verify(hash, PASSWORD), false);
      assert.equal(typeof hasher.needsRehash(hash), 'boolean');
    });
  }

  test('the unmodified control hashes do verify (the cases above test something)', async () => {
    assert.equal(await hasher.verify(good, PASSWORD), true);
    assert.equal(await hasher.verify(bcryptGood, PASSWORD), true);
  });

  test('a stored hash asking for absurd work is refused at once, not computed', async () => {
    const start = performance.now();
    assert.equal(await hasher.verify(good.replace('t=1', 't=100000'), PASSWORD), false);
    assert.equal(await hasher.verify(good.replace('m=1024', 'm=4194304'), PASSWORD), false);
    assert.equal(await hasher.verify(bcryptGood.replace('$04$', '$31$'), PASSWORD), false);
    assert.ok(performance.now() - start < 500, 'computing any of them would take minutes');
  });

  test('non-string inputs (bad JSON reaching the hasher) → false', async () => {
    const loose = hasher.verify as (hash: unknown, password: unknown) => Promise<boolean>;
    assert.equal(await loose(good, null), false);
    assert.equal(await loose(null, 'x'), false);
    assert.equal(await loose(good, [PASSWORD]), false);
  });
});

describe('verifyDummy', () => {
  test('always false, even for the empty password or a password it could have been made from', async () => {
    for (const pw of ['', 'password', 'correct horse battery staple', 'x'.repeat(300)]) {
      assert.equal(await hasher.verifyDummy(pw), false);
    }
  });

  test('costs about what a wrong password costs (same parameters)', async () => {
    const real = createPasswordHasher({ memoryCost: 8192, timeCost: 2, parallelism: 1 });
    const cheap = createPasswordHasher(TEST_PARAMS);
    const hash = await real.hash('the real one');
    const time = async (f: () => Promise<boolean>): Promise<number> => {
      const start = performance.now();
      await f();
      return performance.now() - start;
    };
    const samples = { wrong: [] as number[], dummy: [] as number[], cheap: [] as number[] };
    // Interleaved rounds and medians, so a busy machine slows every kind alike.
    for (let round = 0; round < 11; round += 1) {
      samples.wrong.push(await time(() => real.verify(hash, 'wrong')));
      samples.dummy.push(await time(() => real.verifyDummy('wrong')));
      samples.cheap.push(await time(() => cheap.verifyDummy('wrong')));
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;
    const [wrong, dummy, cheapDummy] = [
      median(samples.wrong),
      median(samples.dummy),
      median(samples.cheap),
    ];
    assert.ok(dummy > wrong / 3 && dummy < wrong * 3, `dummy ${dummy} ms vs wrong ${wrong} ms`);
    assert.ok(cheapDummy < dummy, 'the dummy follows the hasher parameters');
  });
});

describe('legacy hashes written by passlib', () => {
  for (const c of fixtures.cases) {
    test(`${c.label}: right password true, wrong false, rehash wanted`, async () => {
      assert.equal(await hasher.verify(c.hash, c.password), true);
      assert.equal(await hasher.verify(c.hash, c.wrong), false);
      assert.equal(createPasswordHasher(DEFAULT_PARAMS).needsRehash(c.hash), true);
    });
  }

  test('the fixture covers bcrypt $2a$/$2b$/$2y$ and argon2 id/i/d', () => {
    const prefixes = new Set(fixtures.cases.map((c) => c.hash.split('$')[1]));
    for (const p of ['2a', '2b', '2y', 'argon2id', 'argon2i', 'argon2d'])
      assert.ok(prefixes.has(p), p);
  });

  for (const c of fixtures.bcryptTruncation) {
    test(`${c.label}: bcrypt reads 72 bytes; longer passwords are refused, never matched on a prefix`, async () => {
      // What the outside implementation does: all three verify there.
      assert.deepEqual(c.passlib, {
        password: true,
        first72Bytes: true,
        sameFirst72OtherTail: true,
      });
      assert.ok(Buffer.byteLength(c.password) > 72);
      assert.equal(Buffer.byteLength(c.first72Bytes), 72);
      // Ours: a password over 72 bytes cannot be checked in full, so it is refused (reset needed).
      assert.equal(await hasher.verify(c.hash, c.password), false);
      assert.equal(await hasher.verify(c.hash, c.sameFirst72OtherTail), false);
      // The first 72 bytes are all the hash ever recorded: the old system accepted them too.
      assert.equal(await hasher.verify(c.hash, c.first72Bytes), true);
    });
  }

  test('a bcrypt hash never matches a password containing NUL (C bcrypt stops at NUL)', async () => {
    const hash = await bcrypt.hash('ab', 4);
    assert.equal(await hasher.verify(hash, 'ab'), true);
    assert.equal(await hasher.verify(hash, 'ab\0'), false);
    assert.equal(await hasher.verify(hash, 'ab\0cd'), false);
  });

  test('after a legacy login the rehash is argon2id and distinguishes long passwords', async () => {
    const [c] = fixtures.bcryptTruncation;
    assert.ok(c);
    const upgraded = await hasher.hash(c.first72Bytes);
    assert.equal(hasher.needsRehash(upgraded), false);
    assert.equal(await hasher.verify(upgraded, c.first72Bytes), true);
    assert.equal(await hasher.verify(upgraded, c.password), false);
  });
});
