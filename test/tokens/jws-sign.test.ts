// The access-token signer (src/tokens/jws-sign.ts) against outside implementations: every algorithm
// verified by jose, and the DER → R‖S conversion checked by OpenSSL's own P1363 verifier.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  type CryptoKey,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
} from 'jose';
import type { Algorithm } from '../../src/config/settings.ts';
import { derToRaw, signJws } from '../../src/tokens/jws-sign.ts';

const claims = {
  iss: 'http://localhost:8000',
  aud: 'http://localhost:8000',
  sub: '01a2-user',
  exp: 2_000_000_000,
  iat: 1_900_000_000,
  jti: 'jti-1',
  client_id: 'portcullis',
  sid: 'sid-1',
  scope: 'read write',
  preferred_username: 'zoë',
};

describe('signJws', () => {
  for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
    test(`${alg}: jose verifies it, header is exactly {alg, typ, kid}`, async () => {
      const pair = await generateKeyPair(alg, { extractable: true });
      // The server's keys are imported from JWK, as keys.ts loads them.
      const privateKey = await importJWK(await exportJWK(pair.privateKey), alg, {
        extractable: true,
      });
      const token = signJws(alg, { typ: 'at+jwt', kid: 'k1' }, claims, privateKey as CryptoKey);
      const { payload, protectedHeader } = await jwtVerify(token, pair.publicKey, {
        algorithms: [alg],
        typ: 'at+jwt',
        currentDate: new Date(1_950_000_000_000),
      });
      assert.deepEqual(payload, claims);
      assert.deepEqual(protectedHeader, { alg, typ: 'at+jwt', kid: 'k1' });
      assert.deepEqual(Object.keys(decodeProtectedHeader(token)), ['alg', 'typ', 'kid']);
    });
  }

  test('HS256: jose verifies it with the raw secret; another secret is refused', async () => {
    const secret = randomBytes(32);
    const token = signJws('HS256' satisfies Algorithm, { typ: 'at+jwt', kid: 'h' }, claims, secret);
    const options = { algorithms: ['HS256'], currentDate: new Date(1_950_000_000_000) };
    assert.deepEqual((await jwtVerify(token, secret, options)).payload, claims);
    await assert.rejects(jwtVerify(token, randomBytes(32), options));
  });

  test('ES256 signatures are 64 bytes, R‖S, never DER', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    for (let i = 0; i < 50; i++) {
      const token = signJws(
        'ES256',
        { typ: 'at+jwt', kid: 'k' },
        { ...claims, jti: `j${i}` },
        pair.privateKey,
      );
      assert.equal(Buffer.from(token.split('.')[2] ?? '', 'base64url').length, 64);
    }
  });
});

describe('derToRaw', () => {
  test('3000 OpenSSL DER signatures convert to what its P1363 verifier accepts', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    let short = 0;
    for (let i = 0; i < 3000; i++) {
      const data = randomBytes(40);
      const der = sign('sha256', data, privateKey);
      // About one in 128 has an R or S shorter than 32 bytes, which must be left-padded.
      if ((der[3] ?? 0) < 32 || (der[5 + (der[3] ?? 0)] ?? 0) < 32) short++;
      const raw = derToRaw(der, 32);
      assert.equal(raw.length, 64);
      assert.ok(
        verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw),
        `signature ${i} did not verify`,
      );
    }
    assert.ok(short > 0, 'no short INTEGER was seen: the padding path went untested');
  });

  test('malformed DER is refused, never misread', () => {
    assert.throws(() => derToRaw(Buffer.from([0x30, 0x04, 0x05, 0x00, 0x05, 0x00]), 32), /INTEGER/);
    const tooLong = Buffer.concat([Buffer.from([0x30, 0x46, 0x02, 0x21, 0x01]), randomBytes(32)]);
    assert.throws(() => derToRaw(tooLong, 32), /too long/);
  });
});
