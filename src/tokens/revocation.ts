// The deny-list checked on every protected request, held in memory: revoked sessions (by `sid`) and a
// per-user "valid after" time. Written to the store with the change that causes it, loaded at start,
// and polled so other instances and workers see it within a poll interval. With Redis, every entry
// applied here is also published, and entries published by other instances are applied on arrival,
// so they deny within milliseconds; the poll stays as the safety net for a lost message. The poll
// reads by a cursor in the database's commit order, never by clock time: hosts' clocks disagree,
// and an entry's time is taken before its transaction commits.
import { uuidv7 } from '../crypto/random.ts';
import type { Kv } from '../kv/index.ts';
import type { Revocation, RevocationCursor, Store } from '../store/index.ts';
import { parseRevocationMessage } from './revocation-message.ts';

export { parseRevocationMessage };

export interface RevocationOptions {
  store: Store;
  clock: () => number;
  /** Entries are kept as long as a token issued before them can live. */
  accessTokenTtlSeconds: number;
  pollMs: number;
  /** Where entries are published and received (another instance's revocations arrive here). */
  kv?: Kv;
  /** Told of every entry applied, local or from another instance (e.g. to drop cached sessions). */
  onApply?: (entries: readonly Revocation[]) => void;
}

export interface RevocationList {
  /** True when the token's session was ended or its user changed after it was issued. */
  isRevoked(claims: { sid: string; sub: string; iat: number }): boolean;
  /** Seconds since the epoch before which the user's tokens are void (0 if none). */
  userValidAfter(userId: string): number;
  /** Entries to write inside the caller's transaction; `apply` them after it commits. */
  sessionEntries(sessionIds: readonly string[]): Revocation[];
  userEntry(userId: string): Revocation;
  apply(entries: readonly Revocation[]): void;
  /** Load the active entries and start polling the store. */
  start(): Promise<void>;
  stop(): void;
}

// Leeway of the verifier plus a margin: an entry outlives every token it can affect.
const MARGIN_MS = 60_000;
const CHANNEL = 'revocations';
// The same entries, kept for one token lifetime in a Redis stream: a guard in another process
// reads what it missed (at start, after a disconnection) from here; see src/guard/redis-revocations.ts.
export const REVOCATION_LOG = 'revocation-log';
// Revocations kept for Redis while it is away; past this many, the oldest waiting ones are kept and
// newer ones reach guards only through their own expiry (the server's instances still poll).
const MAX_UNSENT = 10_000;

export function createRevocationList(options: RevocationOptions): RevocationList {
  const sessions = new Map<string, number>(); // sid → expires (ms)
  const users = new Map<string, { validAfter: number; expiresAt: number }>(); // validAfter in seconds
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  let cursor: RevocationCursor | undefined;
  let polling = false;
  const ttlMs = options.accessTokenTtlSeconds * 1000 + MARGIN_MS;

  // Messages Redis did not take (it was down): written again at each poll tick until it does, so a
  // guard following the log learns of a revocation made during an outage once Redis is back.
  const unsent: Array<{ message: string; expiresAt: number }> = [];
  let resending = false;

  function send(message: string): Promise<unknown> {
    const kv = options.kv as Kv;
    // Not delivered by publish: other instances still read it from the store at their next poll.
    kv.publish(CHANNEL, message).catch(() => {});
    return kv.appendLog(REVOCATION_LOG, message, ttlMs);
  }

  function publish(entries: readonly Revocation[]): void {
    if (!options.kv || entries.length === 0) return;
    const message = JSON.stringify(entries);
    const expiresAt = Math.max(...entries.map((e) => e.expiresAt));
    send(message).catch(() => {
      if (unsent.length < MAX_UNSENT) unsent.push({ message, expiresAt });
    });
  }

  async function resend(): Promise<void> {
    if (resending || unsent.length === 0) return;
    resending = true;
    try {
      while (unsent.length > 0) {
        const next = unsent[0] as { message: string; expiresAt: number };
        // Past its expiry no token it names can be live: nothing left to tell.
        if (next.expiresAt > options.clock()) await send(next.message);
        unsent.shift();
      }
    } finally {
      resending = false;
    }
  }

  function applyLocal(entries: readonly Revocation[]): void {
    if (entries.length > 0) options.onApply?.(entries);
    for (const entry of entries) {
      if (entry.kind === 'session') {
        sessions.set(entry.subject, Math.max(entry.expiresAt, sessions.get(entry.subject) ?? 0));
      } else {
        const validAfter = Math.ceil(entry.at / 1000);
        const current = users.get(entry.subject);
        if (!current || current.validAfter < validAfter) {
          users.set(entry.subject, { validAfter, expiresAt: entry.expiresAt });
        }
      }
    }
  }

  function apply(entries: readonly Revocation[]): void {
    applyLocal(entries);
    publish(entries);
  }

  function prune(now: number): void {
    for (const [sid, expires] of sessions) if (expires <= now) sessions.delete(sid);
    for (const [id, entry] of users) if (entry.expiresAt <= now) users.delete(id);
  }

  async function poll(): Promise<void> {
    // One poll at a time: a slow one finishing last must not move the cursor back.
    if (polling || cursor === undefined) return;
    polling = true;
    try {
      const next = await options.store.revocations.listAfter(cursor);
      cursor = next.cursor;
      applyLocal(next.entries);
      prune(options.clock());
    } finally {
      polling = false;
    }
  }

  return {
    isRevoked({ sid, sub, iat }) {
      if (sessions.has(sid)) return true;
      const user = users.get(sub);
      return user !== undefined && iat < user.validAfter;
    },
    userValidAfter(userId) {
      return users.get(userId)?.validAfter ?? 0;
    },
    sessionEntries(sessionIds) {
      const at = options.clock();
      return sessionIds.map((subject) => ({
        id: uuidv7(at),
        kind: 'session' as const,
        subject,
        at,
        expiresAt: at + ttlMs,
      }));
    },
    userEntry(userId) {
      const at = options.clock();
      return { id: uuidv7(at), kind: 'user', subject: userId, at, expiresAt: at + ttlMs };
    },
    apply,
    async start() {
      const now = options.clock();
      // Subscribed before the first load, so nothing revoked in between is missed.
      unsubscribe = await options.kv?.subscribe(CHANNEL, (message) => {
        const latest = options.clock() + ttlMs;
        // No entry from outside outlives the tokens it can affect.
        const entries = parseRevocationMessage(message).map((e) => ({
          ...e,
          expiresAt: Math.min(e.expiresAt, latest),
        }));
        applyLocal(entries);
      });
      // The cursor before the load: whatever commits in between is read again at the first poll.
      const from = await options.store.revocations.cursor();
      applyLocal(await options.store.revocations.listActive(now));
      cursor = from;
      timer = setInterval(() => {
        poll().catch(() => {
          // A failed poll is retried at the next tick; the local entries stay in force.
        });
        resend().catch(() => {
          // Redis is still away: the next tick tries again, in the same order.
        });
      }, options.pollMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      unsubscribe?.().catch(() => {
        // The connection closes next anyway.
      });
    },
  };
}
