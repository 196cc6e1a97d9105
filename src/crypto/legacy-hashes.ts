// scrypt and PBKDF2 hashes as other Python systems store them, verified with node:crypto:
//   passlib   $scrypt$ln=16,r=8,p=1$<b64 salt>$<b64 key>   $pbkdf2-sha256$29000$<ab64 salt>$<ab64 key>
//             ($pbkdf2-sha512$, and $pbkdf2$ for SHA-1)
//   werkzeug  scrypt:32768:8:1$<salt text>$<hex key>       pbkdf2:sha256:600000$<salt text>$<hex key>
// passlib's salt is the decoded bytes; werkzeug's is the UTF-8 of the salt text as written.
import { pbkdf2, scrypt, timingSafeEqual } from 'node:crypto';

type Digest = 'sha1' | 'sha256' | 'sha512';

export type LegacyHash =
  | { kind: 'pbkdf2'; digest: Digest; iterations: number; salt: Buffer; key: Buffer }
  | {
      kind: 'scrypt';
      cost: number;
      blockSize: number;
      parallelization: number;
      salt: Buffer;
      key: Buffer;
    };

const DIGEST_BYTES: Record<Digest, number> = { sha1: 20, sha256: 32, sha512: 64 };
// Bounds on the work a stored hash may ask for, so that a hostile import cannot exhaust the host.
const MAX_PBKDF2_ITERATIONS = 5_000_000;
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

const PASSLIB_PBKDF2 =
  /^\$pbkdf2(?:-(sha256|sha512))?\$(\d{1,8})\$([./A-Za-z0-9]{0,128})\$([./A-Za-z0-9]{20,128})$/;
const PASSLIB_SCRYPT =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([./+A-Za-z0-9]{0,128})\$([./+A-Za-z0-9]{20,128})$/;
const WERKZEUG_PBKDF2 =
  /^pbkdf2:(sha1|sha256|sha512):(\d{1,8})\$([^$]{1,128})\$([0-9a-f]{40,128})$/;
const WERKZEUG_SCRYPT = /^scrypt:(\d{1,8}):(\d{1,3}):(\d{1,3})\$([^$]{1,128})\$([0-9a-f]{32,256})$/;

/** passlib's "adapted base64": '.' for '+', no padding. */
function ab64(text: string): Buffer {
  return Buffer.from(text.replaceAll('.', '+'), 'base64');
}

function pbkdf2Hash(
  digest: Digest,
  iterations: number,
  salt: Buffer,
  key: Buffer,
): LegacyHash | undefined {
  if (iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) return undefined;
  if (key.length !== DIGEST_BYTES[digest]) return undefined;
  return { kind: 'pbkdf2', digest, iterations, salt, key };
}

function scryptHash(
  cost: number,
  blockSize: number,
  parallelization: number,
  salt: Buffer,
  key: Buffer,
): LegacyHash | undefined {
  const powerOfTwo = cost > 1 && (cost & (cost - 1)) === 0;
  if (!powerOfTwo || blockSize < 1 || parallelization < 1 || parallelization > 16) return undefined;
  if (128 * cost * blockSize > MAX_SCRYPT_MEMORY || key.length < 16 || key.length > 128)
    return undefined;
  return { kind: 'scrypt', cost, blockSize, parallelization, salt, key };
}

/** The parsed hash, or undefined if it is none of the four formats or asks for too much work. */
export function parseLegacyHash(stored: string): LegacyHash | undefined {
  let m = PASSLIB_PBKDF2.exec(stored);
  if (m) {
    const digest = (m[1] ?? 'sha1') as Digest;
    return pbkdf2Hash(digest, Number(m[2]), ab64(m[3] ?? ''), ab64(m[4] ?? ''));
  }
  m = PASSLIB_SCRYPT.exec(stored);
  if (m) {
    const log2 = Number(m[1]);
    if (log2 < 1 || log2 > 24) return undefined;
    return scryptHash(2 ** log2, Number(m[2]), Number(m[3]), ab64(m[4] ?? ''), ab64(m[5] ?? ''));
  }
  m = WERKZEUG_PBKDF2.exec(stored);
  if (m) {
    const digest = m[1] as Digest;
    return pbkdf2Hash(
      digest,
      Number(m[2]),
      Buffer.from(m[3] ?? '', 'utf8'),
      Buffer.from(m[4] ?? '', 'hex'),
    );
  }
  m = WERKZEUG_SCRYPT.exec(stored);
  if (m && (m[5] ?? '').length % 2 === 0) {
    return scryptHash(
      Number(m[1]),
      Number(m[2]),
      Number(m[3]),
      Buffer.from(m[4] ?? '', 'utf8'),
      Buffer.from(m[5] ?? '', 'hex'),
    );
  }
  return undefined;
}

function derive(hash: LegacyHash, password: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, key: Buffer) => (error ? reject(error) : resolve(key));
    // The callback forms run on the libuv thread pool, off the event loop.
    if (hash.kind === 'pbkdf2') {
      pbkdf2(password, hash.salt, hash.iterations, hash.key.length, hash.digest, done);
    } else {
      const options = {
        N: hash.cost,
        r: hash.blockSize,
        p: hash.parallelization,
        maxmem: 2 * MAX_SCRYPT_MEMORY,
      };
      scrypt(password, hash.salt, hash.key.length, options, done);
    }
  });
}

export async function verifyLegacy(hash: LegacyHash, password: string): Promise<boolean> {
  const key = await derive(hash, Buffer.from(password, 'utf8'));
  // Constant time: how much of the key matched must not show in the timing.
  return key.length === hash.key.length && timingSafeEqual(key, hash.key);
}
