// Account lockout: repeated failures on one account slow it down with growing delays,
// answered 429 with Retry-After. A delay always ends (never a permanent lock an attacker could
// impose), a success resets the count, and counters live in the kv, so with Redis every instance
// sees the same ones.
//
// Two kinds of keys:
//   - a name as typed ("username:alice", "email:alice@example.com", normalised), whether or not an
//     account has it: failed password logins count here, so unknown names are slowed exactly like
//     real ones and the lockout tells nobody which email belongs to which username;
//   - a known account itself ("user:<id>", shared by both its names): failures of the checks made
//     once the account is known (second factors, password re-checks for sensitive changes) count
//     here. Only a correct second factor clears it (or a correct password when the account has no
//     second factor), so knowing the password gives no way to reset the second factor's count.
//
// Building blocks for every secret check:
//   withAttemptSlot(s, key, fn)   one check at a time per key; later checks wait their turn
//   checkLockout(s, keys)         throws 429 too_many_attempts while a delay runs
//   recordFailure(s, keys, ctx)   counts a failure; from LOCKOUT_THRESHOLD on, starts a delay
//   resetLockout(s, keys)         after a success
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config/index.ts';
import { AppError } from '../../errors/index.ts';
import type { Kv } from '../../kv/index.ts';
import { recordAudit } from '../audit/index.ts';
import { normalizeLogin } from '../identity/index.ts';
import type { Uses } from '../services.ts';

export interface AttemptContext {
  userId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

// Long enough for the slowest password check; a crashed holder frees the slot after it.
const SLOT_MS = 10_000;
// How often the first waiter of an instance asks the kv whether the slot is free: from the first
// to the last value, doubling, with jitter so that instances do not ask in lockstep. The waiter
// holding the next turn asks every POLL_NEXT_MS.
const POLL_FIRST_MS = 5;
const POLL_MAX_MS = 40;
const POLL_NEXT_MS = 10;
// A reservation of the next turn lives this long unless renewed by its waiter's polls.
const RESERVATION_MS = 250;
// Redis drops a delay this long after it ends by its own clock; the decision uses the server's.
const EXPIRY_MARGIN_MS = 60_000;

/** The lockout key of a login as typed: "username:alice" or "email:alice@example.com", normalised. */
export function lockoutKey(login: string): string {
  const { kind, normalized } = normalizeLogin(login);
  return `${kind}:${normalized}`;
}

/** Both names of a known account: what a correct password of the account clears. */
export function accountLockoutKeys(user: { username: string; email: string }): string[] {
  return [lockoutKey(user.username), lockoutKey(user.email)];
}

/** The key of a known account itself, shared by both names (see the top of this file). */
export function userLockoutKey(user: { id: string }): string {
  return `user:${user.id}`;
}

/** Every key of a known account: checked by the checks made once the account is known. */
export function allLockoutKeys(user: { id: string; username: string; email: string }): string[] {
  return [...accountLockoutKeys(user), userLockoutKey(user)];
}

// Hashed: any typed name makes a short, printable kv key, and names are not kept in Redis.
function kvKey(kind: 'fail' | 'until' | 'slot' | 'next', key: string, suffix = ''): string {
  const digest = createHash('sha256').update(key).digest('base64url');
  return `lockout:${kind}:${digest}${suffix}`;
}

function tooManyAttempts(seconds: number): AppError {
  return new AppError(
    'too_many_attempts',
    `Too many failed attempts for this account; try again in ${seconds} seconds.`,
    { retryAfter: seconds },
  );
}

/** Seconds of delay after `failures` failures: base × 2^(failures − threshold), at most the max. */
export function delaySeconds(
  config: Pick<Config, 'lockoutThreshold' | 'lockoutMaxSeconds' | 'lockoutBaseSeconds'>,
  failures: number,
): number {
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

export async function checkLockout(
  s: Uses<'clock' | 'kv'>,
  keys: string | readonly string[],
): Promise<void> {
  const now = s.clock();
  let waitMs = 0;
  for (const key of keysOf(keys)) {
    const until = Number(await kv(s.kv.get(kvKey('until', key))));
    if (until > now) waitMs = Math.max(waitMs, until - now);
  }
  if (waitMs > 0) throw tooManyAttempts(Math.ceil(waitMs / 1000));
}

export async function recordFailure(
  s: Uses<
    'clock' | 'kv' | 'store',
    'lockoutBaseSeconds' | 'lockoutMaxSeconds' | 'lockoutThreshold' | 'lockoutWindowSeconds'
  >,
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

export async function resetLockout(
  s: Uses<'clock' | 'kv', 'lockoutWindowSeconds'>,
  keys: string | readonly string[],
): Promise<void> {
  const window = Math.floor(s.clock() / (s.config.lockoutWindowSeconds * 1000));
  for (const key of keysOf(keys)) {
    await kv(s.kv.del(kvKey('fail', key, `:${window}`)));
    await kv(s.kv.del(kvKey('until', key)));
  }
}

function slotBusy(): AppError {
  // Honest: nothing failed, another check of the same account is taking long; retry soon.
  return new AppError(
    'temporarily_unavailable',
    'Another sign-in of this account is in progress; try again in a moment.',
    { retryAfter: 1 },
  );
}

// Waiters of this process, per kv and slot: a promise that settles when the last one in line is
// done. Only the first in line polls the kv, so a flood of requests for one account costs Redis
// one poller per instance, and this instance serves its waiters in arrival order.
const lines = new WeakMap<Kv, Map<string, Promise<void>>>();

interface Place {
  /** Settles when everyone ahead in this process is done. */
  ahead: Promise<void>;
  leave(): void;
}

function joinLine(s: Uses<'kv'>, slot: string): Place {
  let line = lines.get(s.kv);
  if (!line) {
    line = new Map();
    lines.set(s.kv, line);
  }
  const ahead = line.get(slot) ?? Promise.resolve();
  let leave = (): void => {};
  const mine = new Promise<void>((resolve) => {
    leave = resolve;
  });
  // Whoever is behind waits for everyone ahead and for this one, even if this one left early.
  const tail = ahead.then(() => mine);
  line.set(slot, tail);
  const own = line;
  return {
    ahead,
    leave() {
      leave();
      void tail.then(() => {
        if (own.get(slot) === tail) own.delete(slot);
      });
    },
  };
}

/** Resolves true when `promise` settles before the deadline (performance.now() time). */
async function before(promise: Promise<void>, deadline: number): Promise<boolean> {
  const left = deadline - performance.now();
  if (left <= 0) return false;
  const timer = new AbortController();
  try {
    return await Promise.race([
      promise.then(() => true),
      sleep(left, false, { signal: timer.signal }),
    ]);
  } finally {
    timer.abort();
  }
}

/**
 * Takes the kv slot (shared by every instance), polling until it is free or the deadline passes.
 * Fairness between instances: the first waiter that finds the slot taken reserves the next turn,
 * and nobody else takes a free slot while that reservation lives, so an instance with a long line
 * of its own cannot hand the slot from one of its waiters to the next for ever.
 */
async function claimSlot(
  s: Uses<'kv'>,
  key: string,
  owner: string,
  deadline: number,
): Promise<boolean> {
  const slot = kvKey('slot', key);
  const next = kvKey('next', key);
  let pause = POLL_FIRST_MS;
  let reserved = false;
  let renewedAt = 0;
  try {
    for (;;) {
      const holder = await kv(s.kv.get(next));
      reserved = holder === owner;
      // Another waiter (on any instance) holds the next turn: a free slot is left to it.
      if (holder === undefined || reserved) {
        if (await kv(s.kv.setIfAbsent(slot, owner, SLOT_MS))) return true;
        if (!reserved) {
          reserved = await kv(s.kv.setIfAbsent(next, owner, RESERVATION_MS));
          renewedAt = performance.now();
        } else if (performance.now() - renewedAt > RESERVATION_MS / 3) {
          await kv(s.kv.set(next, owner, RESERVATION_MS));
          renewedAt = performance.now();
        }
      }
      const left = deadline - performance.now();
      if (left <= 0) return false;
      // The holder of the next turn asks often, so that a freed slot does not stand idle.
      pause = reserved ? POLL_NEXT_MS : Math.min(POLL_MAX_MS, pause * 2);
      await sleep(Math.min(left, pause * (0.5 + Math.random())));
    }
  } finally {
    // Served, given up or failed: the reservation goes at once rather than stalling the others.
    if (reserved) await s.kv.delIfEquals(next, owner).catch(() => {});
  }
}

/**
 * Runs `attempt` while holding the slot of `key`: checks of one key run one at a time, each after
 * the previous one has counted its failure, so a burst of parallel guesses is tried no more than
 * the threshold allows. A check arriving meanwhile waits its turn (a correct password is never
 * refused because another check is in flight); a wait longer than LOCKOUT_QUEUE_SECONDS is
 * answered 503 temporarily_unavailable, and a delay that started meanwhile 429 without a hash.
 */
export async function withAttemptSlot<T>(
  s: Uses<'clock' | 'kv', 'lockoutQueueSeconds'>,
  key: string,
  attempt: () => Promise<T>,
): Promise<T> {
  // A running delay is answered at once, without queueing.
  await checkLockout(s, key);
  // Real elapsed time, not the server's clock: this bounds a request's latency (tests freeze the
  // server's clock, and its jumps must not end a wait).
  const deadline = performance.now() + s.config.lockoutQueueSeconds * 1000;
  const slot = kvKey('slot', key);
  const place = joinLine(s, slot);
  try {
    if (!(await before(place.ahead, deadline))) throw slotBusy();
    // The guesses queued ahead may have started a delay: answered without touching the slot.
    await checkLockout(s, key);
    const owner = randomUUID();
    if (!(await claimSlot(s, key, owner, deadline))) throw slotBusy();
    try {
      // Checked again inside the slot: the previous holder (on any instance) may have just
      // started a delay, so a queued guess past the threshold gets 429, never a hash.
      await checkLockout(s, key);
      return await attempt();
    } finally {
      await s.kv.delIfEquals(slot, owner).catch(() => {
        // Expires by itself after SLOT_MS.
      });
    }
  } finally {
    place.leave();
  }
}
