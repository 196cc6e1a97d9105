// Rows about the signature and the key: `alg: none`, algorithm confusion, tampering, foreign keys,
// and headers that name or carry a key (jwk, jku, x5u, x5c). security-tests.md A1–A8, B5–B8.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { b64url, es256, hs256, parts, seg } from './forge.ts';
import type { Attack, HostileContext } from './hostile-context.ts';

const NONE_SPELLINGS = ['none', 'None', 'NONE', 'nOnE'] as const;

const noneRows: Attack[] = NONE_SPELLINGS.flatMap((alg): Attack[] => [
  {
    name: `alg "${alg}", empty signature`,
    build: (c) => `${seg({ ...c.header, alg })}.${seg(c.claims)}.`,
    postgres: alg === 'nOnE' ? true : undefined,
  },
  {
    name: `alg "${alg}", junk signature`,
    build: (c) => `${seg({ ...c.header, alg })}.${seg(c.claims)}.${b64url('junk-signature')}`,
  },
]);

function spkiPem(c: HostileContext): string {
  const key = createPublicKey({ key: c.publicJwk as JsonWebKey, format: 'jwk' });
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

function spkiDer(c: HostileContext): Buffer {
  return createPublicKey({ key: c.publicJwk as JsonWebKey, format: 'jwk' }).export({
    type: 'spki',
    format: 'der',
  });
}

// RS256→HS256 (CVE-2015-9235): the published public key used as the HMAC secret, real kid.
const hsHeader = (c: HostileContext) => ({ alg: 'HS256', typ: 'at+jwt', kid: c.kid });
const confusionRows: Attack[] = [
  {
    name: 'HS256 keyed with the public key as PEM (SPKI)',
    build: (c) => hs256(spkiPem(c), hsHeader(c), c.claims),
    postgres: true,
  },
  {
    name: 'HS256 keyed with the public key as PEM without the final newline',
    build: (c) => hs256(spkiPem(c).trimEnd(), hsHeader(c), c.claims),
  },
  {
    name: 'HS256 keyed with the public key as DER (SPKI) bytes',
    build: (c) => hs256(spkiDer(c), hsHeader(c), c.claims),
  },
  {
    name: 'HS256 keyed with the JWK JSON text of the public key',
    build: (c) => hs256(JSON.stringify(c.publicJwk), hsHeader(c), c.claims),
  },
];

const tamperRows: Attack[] = [
  {
    name: 'payload tampered (sub → another user), original signature',
    build: (c) => {
      const [h, , s] = parts(c.genuine);
      return `${h}.${seg({ ...c.claims, sub: c.victimId })}.${s}`;
    },
    postgres: true,
  },
  {
    name: 'payload tampered (scope → admin), original signature',
    build: (c) => {
      const [h, , s] = parts(c.genuine);
      return `${h}.${seg({ ...c.claims, scope: 'read write admin' })}.${s}`;
    },
  },
  {
    name: 'header tampered (extra member), original signature',
    build: (c) => {
      const [, p, s] = parts(c.genuine);
      return `${seg({ ...c.header, x: 1 })}.${p}.${s}`;
    },
  },
  {
    name: 'signature stripped (a.b.)',
    build: (c) => {
      const [h, p] = parts(c.genuine);
      return `${h}.${p}.`;
    },
  },
  {
    name: 'signed by another ES256 key, real kid',
    build: (c) => es256(c.attacker.key, c.header, c.claims),
  },
  {
    name: 'all-zero 64-byte ECDSA signature (r = s = 0, CVE-2022-21449)',
    build: (c) => {
      const [h, p] = parts(c.genuine);
      return `${h}.${p}.${b64url(new Uint8Array(64))}`;
    },
  },
  {
    name: 'zero ECDSA signature in DER form (SEQUENCE{0, 0})',
    build: (c) => {
      const [h, p] = parts(c.genuine);
      return `${h}.${p}.MAYCAQACAQA`;
    },
  },
  {
    name: 'access token of another Portcullis server (other keys, same issuer)',
    build: (c) => c.foreignToken,
  },
];

const BASE = { alg: 'ES256', typ: 'at+jwt' };
const keyHeaderRows: Attack[] = [
  {
    name: 'embedded jwk (attacker key, signed with it)',
    build: (c) => es256(c.attacker.key, { ...BASE, jwk: c.attacker.jwk }, c.claims),
  },
  {
    name: 'embedded jwk (attacker key, signed with it) with the real kid',
    build: (c) => es256(c.attacker.key, { ...BASE, kid: c.kid, jwk: c.attacker.jwk }, c.claims),
  },
  {
    name: 'jku → attacker JWKS on a local server',
    build: (c) =>
      es256(
        c.attacker.key,
        { ...BASE, kid: c.attacker.kid, jku: `${c.listener.url}/jwks.json` },
        c.claims,
      ),
  },
  {
    name: 'jku → attacker JWKS on a local server, real kid',
    build: (c) =>
      es256(c.attacker.key, { ...BASE, kid: c.kid, jku: `${c.listener.url}/jwks.json` }, c.claims),
  },
  {
    name: 'x5u → attacker cert chain on a local server',
    build: (c) => es256(c.chain.leafKey, { ...BASE, x5u: `${c.listener.url}/chain.pem` }, c.claims),
  },
  {
    name: 'x5c with a self-made cert chain, signed by its leaf key',
    build: (c) => es256(c.chain.leafKey, { ...BASE, x5c: c.chain.x5c }, c.claims),
  },
  {
    name: 'x5c with a self-made cert chain and the real kid',
    build: (c) => es256(c.chain.leafKey, { ...BASE, kid: c.kid, x5c: c.chain.x5c }, c.claims),
  },
  {
    name: 'x5c junk on a token otherwise signed by the server key',
    build: (c) => c.forge({ x5c: ['junk!!', b64url('not a certificate')] }),
  },
];

export const signatureRows: Attack[] = [
  ...noneRows,
  ...confusionRows,
  ...tamperRows,
  ...keyHeaderRows,
];
