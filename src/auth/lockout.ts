// Account lockout (SPEC §5): repeated failures on one account slow it down with growing delays,
// answered 429 with Retry-After. A delay always ends (never a permanent lock an attacker could
// impose), a success resets the count, and counters live in the kv, so with Redis every instance
// sees the same ones. Keys are the normalised account name as typed, whether or not it exists.
//
// Building blocks for every secret check (password now, second factor later):
//   withAttemptSlot(s, key, fn)   one check at a time per account
//   checkLockout(s, keys)         throws 429 too_many_attempts while a delay runs
//   recordFailure(s, keys, ctx)   counts a failure; from LOCKOUT_THRESHOLD on, starts a delay
//   resetLockout(s, keys)         after a success
import { createHash } from 'node:crypto';
import type { Config } from '../config/index.ts';
import { AppError } from '../errors/index.ts';
import { recordAudit } from './audit.ts';
import { normalizeLogin } from './identity.ts';
import type { Services } from './services.ts';

export interface AttemptContext {
  userId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

// Long enough for the slowest password check; a crashed holder frees the slot after it.
const SLOT_MS = 10_000;
// Redis drops a delay this long after it ends by its own clock; the decision uses the server's.
const EXPIRY_MARGIN_MS = 60_000;

/** The lockout key of a login as typed: "username:alice" or "email:alice@example.com", normalised. */
export function lockoutKey(login: string): string {
  const { kind, normalized } = normalizeLogin(login);
  return `${kind}:${normalized}`;
}

/** Both names of a known account, for checks made once the account is known (second factor). */
export function accountLockoutKeys(user: { username: string; email: string }): string[] {
  return [lockoutKey(user.username), lockoutKey(user.email)];
}

// Hashed: any typed name makes a short, printable kv key, and names are not kept in Redis.
function kvKey(kind: 'fail' | 'until' | 'slot', key: string, suffix = ''): string {
  const digest = createHash('sha256').update(key).digest('base64url');
  return `lockout:${kind}:${digest}${suffix}`;
}

function tooManyAttempts(seconds: number): AppError {
  return new AppError(
    429,
    'too_many_attempts',
    `Too many failed attempts for this account; try again in ${seconds} seconds.`,
    { retryAfter: seconds },
  );
}

/** Seconds of delay after `failures` failures: base × 2^(failures − threshold), at most the max. */
export function delaySeconds(config: Config, failures: number): number {
  if (failures < config.lockoutThreshold) return 0;
  const doublings = Math.min(failures - config.lockoutThreshold, 30);
  return Math.min(config.lockoutMaxSeconds, config.lockoutBaseSeconds * 2 ** doublings);
}

// Without its counters the lockout cannot protect the account: refuse the check (fail closed).
async function kv<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (cause) {
    const error = new AppError(
      503,
      'temporarily_unavailable',
      'Sign-in is unavailable for a moment; try again shortly.',
      { retryAfter: 5 },
    );
    error.cause = cause;
    throw error;
  }
}

function keysOf(keys: string | readonly string[]): readonly string[] {
  return typeof keys === 'string' ? [keys] : keys;
}

export async function checkLockout(s: Services, keys: string | readonly string[]): Promise<void> {
  const now = s.clock();
  let waitMs = 0;
  for (const key of keysOf(keys)) {
    const until = Number(await kv(s.kv.get(kvKey('until', key))));
    if (until > now) waitMs = Math.max(waitMs, until - now);
  }
  if (waitMs > 0) throw tooManyAttempts(Math.ceil(waitMs / 1000));
}

export async function recordFailure(
  s: Services,
  keys: string | readonly string[],
  context: AttemptContext = {},
): Promise<void> {
  const now = s.clock();
  const windowMs = s.config.lockoutWindowSeconds * 1000;
  const window = Math.floor(now / windowMs);
  let started: { key: string; count: number; seconds: number } | undefined;
  for (const key of keysOf(keys)) {
    // The window is read from the server's clock, so every instance and every backend agree on it.
    const { count } = await kv(s.kv.incr(kvKey('fail', key, `:${window}`), windowMs));
    const seconds = delaySeconds(s.config, count);
    if (seconds === 0) continue;
    const delayMs = seconds * 1000;
    await kv(s.kv.set(kvKey('until', key), String(now + delayMs), delayMs + EXPIRY_MARGIN_MS));
    if (!started || seconds > started.seconds) started = { key, count, seconds };
  }
  if (!started) return;
  await recordAudit(s.store, {
    type: 'lockout',
    actorId: null,
    subjectId: context.userId ?? null,
    ip: context.ip ?? null,
    userAgent: context.userAgent ?? null,
    details: { account: started.key, failures: started.count, delay_seconds: started.seconds },
  });
}

export async function resetLockout(s: Services, keys: string | readonly string[]): Promise<void> {
  const window = Math.floor(s.clock() / (s.config.lockoutWindowSeconds * 1000));
  for (const key of keysOf(keys)) {
    await kv(s.kv.del(kvKey('fail', key, `:${window}`)));
    await kv(s.kv.del(kvKey('until', key)));
  }
}

/**
 * Runs `attempt` while holding the account's slot: a second check of the same account arriving
 * meanwhile is refused (429, Retry-After: 1), so a burst of parallel guesses cannot all be checked
 * before the first failure is counted.
 */
export async function withAttemptSlot<T>(
  s: Services,
  key: string,
  attempt: () => Promise<T>,
): Promise<T> {
  // A running delay is answered at once, without taking the slot.
  await checkLockout(s, key);
  const slot = kvKey('slot', key);
  const { count } = await kv(s.kv.incr(slot, SLOT_MS));
  if (count > 1) throw tooManyAttempts(1);
  try {
    // Checked again inside the slot: the previous holder may have just started a delay.
    await checkLockout(s, key);
    return await attempt();
  } finally {
    await s.kv.del(slot).catch(() => {
      // Expires by itself after SLOT_MS.
    });
  }
}
