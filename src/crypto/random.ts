// Random secrets, time-ordered ids, constant-time comparison, key derivation and sealing.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  type KeyObject,
  randomBytes,
  randomFillSync,
  timingSafeEqual,
} from 'node:crypto';

const HKDF_SALT = 'portcullis/v1';
const SEAL_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const MIN_TOKEN_BYTES = 16;
const MAX_TOKEN_BYTES = 1024;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** A random secret from the CSPRNG, base64url without padding (32 bytes = 256 bits by default). */
export function randomToken(bytes = 32): string {
  // 128 bits is the floor for any secret token (ASVS 11.5.1); a smaller request is a bug.
  if (!Number.isInteger(bytes) || bytes < MIN_TOKEN_BYTES || bytes > MAX_TOKEN_BYTES) {
    throw new RangeError(
      `randomToken: bytes must be an integer from ${MIN_TOKEN_BYTES} to ${MAX_TOKEN_BYTES}`,
    );
  }
  return randomBytes(bytes).toString('base64url');
}

// Random bits for ids (never for secrets: randomToken reads the CSPRNG directly) come from a pool
// refilled a page at a time, as Node's own randomUUID does: each small randomBytes call is a trip into
// OpenSSL's locked generator, the pool a copy (bench/README.md has the cost). Every byte is the
// CSPRNG's and is handed out once.
const ID_POOL_BYTES = 4096;
const idPool = Buffer.allocUnsafeSlow(ID_POOL_BYTES);
let idPoolOffset = ID_POOL_BYTES;

function idRandomBytes(n: number): Buffer {
  if (idPoolOffset + n > ID_POOL_BYTES) {
    randomFillSync(idPool);
    idPoolOffset = 0;
  }
  const out = Buffer.from(idPool.subarray(idPoolOffset, idPoolOffset + n));
  idPoolOffset += n;
  return out;
}

// UUIDv7 state: the last timestamp used and a 12-bit counter in rand_a (RFC 9562 §6.2, method 1).
let lastMs = -1;
let counter = 0;
const MAX_CLOCK_STEP_BACK_MS = 10_000;

// A fresh millisecond starts the counter at a random value below 2^11, leaving room to count.
function freshCounter(): number {
  return idRandomBytes(2).readUInt16BE(0) & 0x7ff;
}

/**
 * An RFC 9562 UUIDv7, lowercase. Ids made by this process with non-decreasing clock readings sort
 * in creation order (a counter orders ids of the same millisecond). Ids are not secrets.
 */
export function uuidv7(nowMs: number = Date.now()): string {
  if (!Number.isSafeInteger(nowMs) || nowMs < 0 || nowMs > 0xffff_ffff_ffff) {
    throw new RangeError('uuidv7: nowMs must be an integer millisecond timestamp within 48 bits');
  }
  let ms = nowMs;
  // Small steps back (clock adjustments, a borrowed millisecond) continue the sequence so ids
  // keep sorting in creation order; a large jump (an injected clock) is taken as given.
  if (ms <= lastMs && lastMs - ms <= MAX_CLOCK_STEP_BACK_MS) {
    ms = lastMs;
    counter += 1;
    // Counter exhausted within one millisecond: borrow the next millisecond (RFC 9562 §6.2).
    if (counter > 0xfff) {
      ms += 1;
      counter = freshCounter();
    }
  } else {
    counter = freshCounter();
  }
  lastMs = ms;
  const bytes = idRandomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Whether two strings are equal, in time that depends on neither their contents nor their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  // Comparing fixed-length digests hides the lengths and never throws (timingSafeEqual would).
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

/**
 * HMAC-SHA256 of the UTF-8 of `data`, base64url without padding. Hot callers pass a KeyObject
 * (createSecretKey once): Node checks a raw key's type by throwing, four times the HMAC's cost.
 */
export function hmacSha256(key: Uint8Array | KeyObject, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('base64url');
}

/** A subkey for one purpose (HKDF-SHA256, RFC 5869), so one secret never serves two uses. */
export function deriveKey(secret: Uint8Array, purpose: string, length = KEY_BYTES): Uint8Array {
  if (secret.byteLength === 0) throw new RangeError('deriveKey: secret must not be empty');
  // An empty purpose would let unrelated callers share a key by accident.
  if (purpose.length === 0) throw new RangeError('deriveKey: purpose must not be empty');
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) {
    throw new RangeError('deriveKey: length must be an integer from 1 to 8160');
  }
  return new Uint8Array(hkdfSync('sha256', secret, HKDF_SALT, purpose, length));
}

function requireKey(key: Uint8Array): void {
  if (key.byteLength !== KEY_BYTES) throw new RangeError('sealText: key must be 32 bytes');
}

/** Encrypts and authenticates text (AES-256-GCM, random 96-bit IV): 'v1.<iv>.<ciphertext>.<tag>'. */
export function sealText(key: Uint8Array, plaintext: string): string {
  requireKey(key);
  // A random 96-bit IV per message; GCM stays safe for far more messages than we will ever seal.
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  // The version is authenticated data, so a sealed text cannot be relabelled as another format.
  cipher.setAAD(Buffer.from(SEAL_VERSION));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [SEAL_VERSION, iv, body, tag]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

// Strict base64url: only canonical encodings, so no two texts decode to the same bytes.
function decodePart(part: string): Buffer | undefined {
  if (!BASE64URL.test(part)) return undefined;
  const bytes = Buffer.from(part, 'base64url');
  return bytes.toString('base64url') === part ? bytes : undefined;
}

/** Decrypts what sealText made with the same key; throws Error('cannot decrypt') on anything else. */
export function openText(key: Uint8Array, sealed: string): string {
  try {
    requireKey(key);
    const parts = sealed.split('.');
    if (parts.length !== 4 || parts[0] !== SEAL_VERSION) throw new Error('format');
    const iv = decodePart(parts[1] ?? '');
    const body = decodePart(parts[2] ?? '');
    const tag = decodePart(parts[3] ?? '');
    if (iv?.length !== IV_BYTES || body === undefined || tag?.length !== TAG_BYTES) {
      throw new Error('format');
    }
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(SEAL_VERSION));
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(body), decipher.final()]);
    return new TextDecoder('utf-8', { fatal: true }).decode(plain);
  } catch {
    // One error for every failure: the caller learns nothing about which check failed.
    throw new Error('cannot decrypt');
  }
}
