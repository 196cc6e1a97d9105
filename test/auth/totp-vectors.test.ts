// RFC 6238 Appendix B: the independent implementation in test/support/totp.ts reproduces the
// published vectors, and the server's TOTP module (otpauth) agrees with both.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchTotp, timeStep, totpCode } from '../../src/auth/second-factor/index.ts';
import { base32Decode, hotp, totp } from '../support/totp.ts';

// Seeds: the ASCII digits "1234567890" repeated to the hash's length (RFC 6238 Appendix A/B).
const SEED = {
  sha1: Buffer.from('12345678901234567890'),
  sha256: Buffer.from('12345678901234567890123456789012'),
  sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
};

// T (seconds) → 8-digit codes for SHA-1, SHA-256, SHA-512.
const VECTORS: Array<[number, string, string, string]> = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

const SHA1_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const EIGHT = { algorithm: 'SHA1', digits: 8, period: 30 } as const;

describe('RFC 6238 Appendix B', () => {
  it('the independent implementation reproduces every vector (SHA-1, SHA-256, SHA-512)', () => {
    for (const [t, sha1, sha256, sha512] of VECTORS) {
      assert.equal(totp(SEED.sha1, t * 1000, 8, 'sha1'), sha1, `SHA-1 at T=${t}`);
      assert.equal(totp(SEED.sha256, t * 1000, 8, 'sha256'), sha256, `SHA-256 at T=${t}`);
      assert.equal(totp(SEED.sha512, t * 1000, 8, 'sha512'), sha512, `SHA-512 at T=${t}`);
    }
  });

  it('RFC 4226 Appendix D: the HOTP underneath gives the published 6-digit values', () => {
    const expected = [
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ];
    for (const [counter, code] of expected.entries()) assert.equal(hotp(SEED.sha1, counter), code);
  });

  it('the base32 of the SHA-1 seed decodes to the seed', () => {
    assert.deepEqual(base32Decode(SHA1_BASE32), SEED.sha1);
  });

  it('the server computes the SHA-1 vectors (8 digits), including beyond 2038', () => {
    for (const [t, sha1] of VECTORS) {
      assert.equal(totpCode(SHA1_BASE32, timeStep(t * 1000, EIGHT), EIGHT), sha1, `T=${t}`);
    }
  });

  it('the server matches a code to its step, one step of drift either way, no more', () => {
    for (const [t, sha1] of VECTORS) {
      const step = Math.floor(t / 30);
      const ms = t * 1000;
      assert.equal(matchTotp(SHA1_BASE32, sha1, ms, EIGHT), step, `T=${t} now`);
      assert.equal(matchTotp(SHA1_BASE32, sha1, ms + 30_000, EIGHT), step, `one step late`);
      assert.equal(matchTotp(SHA1_BASE32, sha1, ms - 30_000, EIGHT), step, `one step early`);
      assert.equal(matchTotp(SHA1_BASE32, sha1, ms + 60_000, EIGHT), undefined, `two late`);
      assert.equal(matchTotp(SHA1_BASE32, sha1, ms - 60_000, EIGHT), undefined, `two early`);
    }
  });

  it('the server refuses malformed codes without computing anything odd', () => {
    const ms = 59_000;
    for (const bad of [
      '',
      '9428708',
      '942870820',
      '9428708a',
      ' 94287082',
      '٩٤٢٨٧٠٨٢',
      '-4287082',
    ]) {
      assert.equal(matchTotp(SHA1_BASE32, bad, ms, EIGHT), undefined, JSON.stringify(bad));
    }
  });

  it('6-digit codes of the default parameters are the last six digits of the vectors', () => {
    assert.equal(totpCode(SHA1_BASE32, timeStep(59_000)), '287082');
    assert.equal(totp(SEED.sha1, 59_000), '287082');
  });
});
