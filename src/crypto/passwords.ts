// Password hashing: argon2id for every new hash; argon2, bcrypt, scrypt and PBKDF2 hashes of other
// systems verify (and need a rehash).
//
// Passwords are hashed and verified as the UTF-8 of the string received, with no trimming, case
// change or Unicode normalisation (ASVS 6.2.8): imported bcrypt and argon2 hashes were made from
// the bytes their users typed, and normalising here would lock those users out.
import type { Algorithm } from '@node-rs/argon2';
import * as argon2 from '@node-rs/argon2';
import * as bcrypt from '@node-rs/bcrypt';
import { hashSlots } from './hash-slots.ts';
import { parseLegacyHash, verifyLegacy } from './legacy-hashes.ts';
import { randomToken } from './random.ts';

export interface HashParams {
  /** KiB */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet: argon2id m=19 MiB, t=2, p=1. */
export const OWASP_MINIMUM: HashParams = Object.freeze({
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
});
export const DEFAULT_PARAMS: HashParams = OWASP_MINIMUM;
/** For tests only: the configuration refuses these outside NODE_ENV=test. */
export const TEST_PARAMS: HashParams = Object.freeze({
  memoryCost: 1024,
  timeCost: 1,
  parallelism: 1,
});

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  needsRehash(hash: string): boolean;
  verifyDummy(password: string): Promise<false>;
}

const ARGON2ID = 2 as Algorithm;
const ARGON2_V13 = 1;
const OUTPUT_BYTES = 32;
const SALT_BYTES = 16;
const ARGON2_PREFIX = /^\$argon2(?:id|i|d)\$/;
// passlib writes $2a$, $2b$ and $2y$ (same algorithm for UTF-8 input); $2x$ (the crypt_blowfish bug) is refused.
const BCRYPT_HASH = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;
// bcrypt reads at most 72 bytes: a longer password cannot be checked in full, so it is refused.
const BCRYPT_MAX_BYTES = 72;
// Bounds on the work a stored hash may ask for, so a corrupt or hostile import cannot exhaust the host.
const STORED_LIMITS = { memoryCost: 256 * 1024, timeCost: 64, parallelism: 16, bcryptCost: 16 };

function checkParams(params: HashParams): void {
  const { memoryCost, timeCost, parallelism } = params;
  const ok =
    Number.isInteger(parallelism) &&
    parallelism >= 1 &&
    parallelism <= 255 &&
    Number.isInteger(timeCost) &&
    timeCost >= 1 &&
    Number.isInteger(memoryCost) &&
    memoryCost >= 8 * parallelism &&
    memoryCost <= 4 * 1024 * 1024;
  if (!ok) throw new RangeError('createPasswordHasher: invalid argon2 parameters');
}

function isBcrypt(hash: string): boolean {
  return BCRYPT_HASH.test(hash);
}

async function verifyBcrypt(hash: string, password: string): Promise<boolean> {
  const cost = Number(hash.slice(4, 6));
  if (cost < 4 || cost > STORED_LIMITS.bcryptCost) return false;
  // bcrypt kept only the first 72 bytes (and C bcrypt stops at NUL): such a password cannot be
  // checked in full, so it is refused (the user resets it), after the same work so timing is equal.
  const refused = password.includes('\0') || Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES;
  const matches = await hashSlots().run(() => bcrypt.verify(password, hash));
  return matches && !refused;
}

export type HashFormat = 'argon2' | 'bcrypt' | 'scrypt' | 'pbkdf2';

/** The format of a stored hash this server can verify, or undefined (imports refuse the row). */
export function hashFormat(stored: string): HashFormat | undefined {
  if (ARGON2_PREFIX.test(stored)) {
    try {
      const found = argon2.parseOptions(stored);
      const ok =
        found.memoryCost <= STORED_LIMITS.memoryCost &&
        found.timeCost <= STORED_LIMITS.timeCost &&
        found.parallelism <= STORED_LIMITS.parallelism;
      return ok ? 'argon2' : undefined;
    } catch {
      return undefined;
    }
  }
  if (isBcrypt(stored)) {
    const cost = Number(stored.slice(4, 6));
    return cost >= 4 && cost <= STORED_LIMITS.bcryptCost ? 'bcrypt' : undefined;
  }
  return parseLegacyHash(stored)?.kind;
}

export function createPasswordHasher(params: HashParams): PasswordHasher {
  checkParams(params);
  const options = { ...params, algorithm: ARGON2ID, outputLen: OUTPUT_BYTES };
  const limits = {
    memoryCost: Math.max(STORED_LIMITS.memoryCost, params.memoryCost),
    timeCost: Math.max(STORED_LIMITS.timeCost, params.timeCost),
    parallelism: Math.max(STORED_LIMITS.parallelism, params.parallelism),
  };

  // The async API runs on the libuv thread pool, off the event loop (see hash-slots.ts).
  const hash = (password: string): Promise<string> =>
    hashSlots().run(() => argon2.hash(password, options));

  async function verifyArgon2(stored: string, password: string): Promise<boolean> {
    const found = argon2.parseOptions(stored);
    if (
      found.memoryCost > limits.memoryCost ||
      found.timeCost > limits.timeCost ||
      found.parallelism > limits.parallelism
    ) {
      return false;
    }
    return hashSlots().run(() => argon2.verify(stored, password));
  }

  async function verify(stored: string, password: string): Promise<boolean> {
    if (typeof stored !== 'string' || typeof password !== 'string') return false;
    try {
      if (ARGON2_PREFIX.test(stored)) return await verifyArgon2(stored, password);
      if (isBcrypt(stored)) return await verifyBcrypt(stored, password);
      const legacy = parseLegacyHash(stored);
      return legacy ? await verifyLegacy(legacy, password) : false;
    } catch {
      // A malformed stored hash is a failed login, never a crash.
      return false;
    }
  }

  function needsRehash(stored: string): boolean {
    if (!stored.startsWith('$argon2id$')) return true;
    try {
      const found = argon2.parseOptions(stored);
      return (
        found.version !== ARGON2_V13 ||
        found.memoryCost < params.memoryCost ||
        found.timeCost < params.timeCost ||
        found.parallelism < params.parallelism ||
        found.outputLen < OUTPUT_BYTES ||
        found.saltLen < SALT_BYTES
      );
    } catch {
      return true;
    }
  }

  // Made once with the same parameters, so an unknown user costs exactly what a wrong password costs.
  let dummy: Promise<string> | undefined;
  function dummyHash(): Promise<string> {
    if (dummy === undefined) {
      const made = hash(randomToken(32));
      made.catch(() => {
        dummy = undefined;
      });
      dummy = made;
    }
    return dummy;
  }
  void dummyHash();

  async function verifyDummy(password: string): Promise<false> {
    await verify(await dummyHash(), typeof password === 'string' ? password : '');
    return false;
  }

  return { hash, verify, needsRehash, verifyDummy };
}
