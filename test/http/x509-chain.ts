// A self-made X.509 chain (root CA → leaf, both EC P-256) for the `x5c`/`x5u` attack rows: an
// attacker can mint one in seconds, so a verifier that trusted x5c would accept their tokens.
// Built with a dozen lines of DER instead of an openssl fixture, so no private key is checked in.
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { type CryptoKey, generateKeyPair } from 'jose';

export interface CertChain {
  /** The leaf's private key, to sign tokens that carry the chain. */
  leafKey: CryptoKey;
  /** base64 (not url) DER certificates, leaf first, as `x5c` wants them. */
  x5c: string[];
  /** The same chain as PEM text, as an `x5u` URL would serve it. */
  pem: string;
}

const ECDSA_WITH_SHA256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const COMMON_NAME = [0x06, 0x03, 0x55, 0x04, 0x03];

function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(contents);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Uint8Array.of(tag, ...length), body]);
}

const seq = (...parts: Uint8Array[]): Uint8Array => tlv(0x30, ...parts);
const bytes = (list: number[]): Uint8Array => Uint8Array.from(list);

function name(cn: string): Uint8Array {
  return seq(tlv(0x31, seq(bytes(COMMON_NAME), tlv(0x0c, Buffer.from(cn, 'utf8')))));
}

function utcTime(date: Date): Uint8Array {
  const text = `${date.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`;
  return tlv(0x17, Buffer.from(text, 'ascii'));
}

/** A v1 certificate for `subjectSpki` (DER SubjectPublicKeyInfo), signed by `issuerKey`. */
function certificate(
  serial: number,
  issuer: string,
  subject: string,
  subjectSpki: Uint8Array,
  issuerKey: KeyObject,
): Buffer {
  const algorithm = seq(bytes(ECDSA_WITH_SHA256));
  const now = Date.now();
  const tbs = seq(
    tlv(0x02, bytes([serial & 0x7f])),
    algorithm,
    name(issuer),
    seq(utcTime(new Date(now - 86_400_000)), utcTime(new Date(now + 365 * 86_400_000))),
    name(subject),
    subjectSpki,
  );
  // node:crypto signs ECDSA in DER (ECDSA-Sig-Value), which is what X.509 wants.
  const signature = sign('sha256', tbs, issuerKey);
  return Buffer.from(seq(tbs, algorithm, tlv(0x03, bytes([0]), signature)));
}

function pem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

export async function selfMadeChain(): Promise<CertChain> {
  const root = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const rootSpki = root.publicKey.export({ type: 'spki', format: 'der' });
  const leaf = await generateKeyPair('ES256', { extractable: true });
  const leafSpki = new Uint8Array(await crypto.subtle.exportKey('spki', leaf.publicKey));
  const rootCert = certificate(
    1,
    'Attacker Root CA',
    'Attacker Root CA',
    rootSpki,
    root.privateKey,
  );
  const leafCert = certificate(
    2,
    'Attacker Root CA',
    'http://localhost:8000',
    leafSpki,
    root.privateKey,
  );
  return {
    leafKey: leaf.privateKey,
    x5c: [leafCert.toString('base64'), rootCert.toString('base64')],
    pem: pem(leafCert) + pem(rootCert),
  };
}
