// Random tokens, UUIDv7, constant-time comparison, HKDF subkeys and sealed text.
import assert from 'node:assert/strict';
import { createHmac, hkdfSync } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  constantTimeEqual,
  deriveKey,
  hmacSha256,
  openText,
  randomToken,
  sealText,
  uuidv7,
} from '../../src/crypto/random.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('randomToken', () => {
  test('32 bytes of base64url by default, all different', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => randomToken()));
    assert.equal(tokens.size, 1000);
    for (const t of tokens) {
      assert.match(t, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(Buffer.from(t, 'base64url').length, 32);
    }
  });

  test('other sizes, and a floor of 128 bits', () => {
    assert.equal(Buffer.from(randomToken(16), 'base64url').length, 16);
    assert.equal(Buffer.from(randomToken(64), 'base64url').length, 64);
    for (const bad of [0, 8, 15, 1.5, -1, Number.NaN, 100_000]) {
      assert.throws(() => randomToken(bad), RangeError, String(bad));
    }
  });
});

describe('uuidv7', () => {
  test('RFC 9562 layout: version 7, variant 10, 48-bit millisecond timestamp', () => {
    const ms = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    const id = uuidv7(ms);
    assert.match(id, UUID_V7);
    assert.equal(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16), ms);
    assert.match(uuidv7(), UUID_V7);
  });

  test('RFC 9562 appendix A.6 timestamp 0x017F22E279B0 encodes as its first 48 bits', () => {
    assert.ok(uuidv7(0x017f22e279b0).startsWith('017f22e2-79b0-7'));
  });

  test('10 000 ids in a tight loop are unique and sort in creation order', () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7());
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids);
  });

  test('ids of one frozen millisecond still sort in order, past the 12-bit counter', () => {
    const frozen = Date.UTC(2030, 5, 1);
    const ids = Array.from({ length: 5000 }, () => uuidv7(frozen));
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });

  test('later clock readings sort later; a large jump back is honoured', () => {
    const a = uuidv7(1_000_000);
    const b = uuidv7(1_000_001);
    const c = uuidv7(2_000_000);
    assert.ok(a < b && b < c);
    const past = uuidv7(5);
    assert.equal(Number.parseInt(past.replaceAll('-', '').slice(0, 12), 16), 5);
  });

  test('bad timestamps are refused', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 48]) assert.throws(() => uuidv7(bad), RangeError);
  });
});

describe('constantTimeEqual', () => {
  const cases: Array<[string, string, boolean]> = [
    ['abc', 'abc', true],
    ['', '', true],
    ['abc', 'abd', false],
    ['abc', 'abcd', false],
    ['', 'a', false],
    ['é', 'e\u0301', false],
    ['x'.repeat(10_000), 'x'.repeat(10_000), true],
    ['x'.repeat(10_000), `${'x'.repeat(9_999)}y`, false],
  ];
  for (const [a, b, expected] of cases) {
    test(`${JSON.stringify(a.slice(0, 8))} vs ${JSON.stringify(b.slice(0, 8))} (${a.length}/${b.length}) → ${expected}`, () => {
      assert.equal(constantTimeEqual(a, b), expected);
      assert.equal(constantTimeEqual(b, a), expected);
    });
  }
});

describe('hmacSha256', () => {
  test('RFC 4231 test case 2', () => {
    const mac = hmacSha256(new TextEncoder().encode('Jefe'), 'what do ya want for nothing?');
    const hex = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843';
    assert.equal(mac, Buffer.from(hex, 'hex').toString('base64url'));
  });

  test('keyed: another key, another MAC', () => {
    const k1 = new Uint8Array(32).fill(1);
    const k2 = new Uint8Array(32).fill(2);
    assert.notEqual(hmacSha256(k1, 'data'), hmacSha256(k2, 'data'));
    assert.equal(
      hmacSha256(k1, 'data'),
      createHmac('sha256', k1).update('data').digest('base64url'),
    );
  });
});

describe('deriveKey', () => {
  const secret = new TextEncoder().encode('a secret key of at least thirty-two bytes!');

  test('deterministic, 32 bytes by default, HKDF-SHA256 with the fixed salt', () => {
    const a = deriveKey(secret, 'refresh-token-hash');
    assert.equal(a.length, 32);
    assert.deepEqual(a, deriveKey(secret, 'refresh-token-hash'));
    const expected = new Uint8Array(
      hkdfSync('sha256', secret, 'portcullis/v1', 'refresh-token-hash', 32),
    );
    assert.deepEqual(a, expected);
    assert.equal(deriveKey(secret, 'x', 64).length, 64);
  });

  test('separated by purpose and by secret', () => {
    const a = Buffer.from(deriveKey(secret, 'refresh-token-hash'));
    const b = Buffer.from(deriveKey(secret, 'signing-keys'));
    const c = Buffer.from(
      deriveKey(new TextEncoder().encode('another secret'), 'refresh-token-hash'),
    );
    assert.notDeepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.notDeepEqual(a, Buffer.from(secret.subarray(0, 32)));
  });

  test('empty secret, empty purpose or bad length are refused', () => {
    assert.throws(() => deriveKey(new Uint8Array(0), 'p'), RangeError);
    assert.throws(() => deriveKey(secret, ''), RangeError);
    assert.throws(() => deriveKey(secret, 'p', 0), RangeError);
    assert.throws(() => deriveKey(secret, 'p', 9000), RangeError);
  });
});

describe('sealText / openText', () => {
  const key = deriveKey(
    new TextEncoder().encode('a secret key of at least thirty-two bytes!'),
    'seal',
  );
  const otherKey = deriveKey(
    new TextEncoder().encode('a secret key of at least thirty-two bytes!'),
    'other',
  );

  test('round trip, in the documented format, with a fresh IV each time', () => {
    for (const text of [
      '',
      'hello',
      '{"kty":"EC","d":"secret"}',
      'ünïcødé 🔐',
      'x'.repeat(100_000),
    ]) {
      const sealed = sealText(key, text);
      assert.match(sealed, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/);
      assert.equal(openText(key, sealed), text);
    }
    assert.notEqual(sealText(key, 'same'), sealText(key, 'same'));
    assert.ok(!sealText(key, 'plaintext-visible?').includes('plaintext'));
  });

  test('every single-character change anywhere is detected', () => {
    const sealed = sealText(key, 'the private signing key');
    const alphabet = 'AQgw_-09azBCDE';
    for (let i = 0; i < sealed.length; i += 1) {
      for (const ch of alphabet) {
        if (sealed[i] === ch) continue;
        const tampered = sealed.slice(0, i) + ch + sealed.slice(i + 1);
        assert.throws(
          () => openText(key, tampered),
          { message: 'cannot decrypt' },
          `at ${i}: ${ch}`,
        );
      }
    }
  });

  test('wrong key, swapped parts, bad formats: always Error("cannot decrypt")', () => {
    const sealed = sealText(key, 'secret');
    const [v, iv, body, tag] = sealed.split('.') as [string, string, string, string];
    const other = sealText(key, 'secreu').split('.') as [string, string, string, string];
    const bad = [
      '',
      'v1',
      'v1...',
      `v2.${iv}.${body}.${tag}`,
      `${v}.${iv}.${body}`,
      `${v}.${iv}.${body}.${tag}.extra`,
      `${v}.${iv}.${body}.${tag}=`,
      `${v}.${iv}.${body}.${tag.slice(0, -2)}`,
      `${v}.${iv}AA.${body}.${tag}`,
      `${v}.${iv}.${other[2]}.${tag}`,
      `${v}.${other[1]}.${body}.${tag}`,
      `${v}.${iv}.${body}.${other[3]}`,
      `${v}.${iv}.${body}A.${tag}`,
      `${v}.${iv}.${body.slice(0, -1)}.${tag}`,
      `${v}.${iv}.${body}.${tag.replace(/./, '+')}`,
      ' '.repeat(10),
    ];
    for (const s of bad) assert.throws(() => openText(key, s), { message: 'cannot decrypt' }, s);
    assert.throws(() => openText(otherKey, sealed), { message: 'cannot decrypt' });
    assert.throws(() => openText(new Uint8Array(16), sealed), { message: 'cannot decrypt' });
    assert.equal(openText(key, sealed), 'secret');
  });

  test('a key that is not 32 bytes is refused when sealing', () => {
    assert.throws(() => sealText(new Uint8Array(16), 'x'), RangeError);
  });
});
