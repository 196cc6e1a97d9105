// The deny-list checked on every protected request, held in memory: revoked sessions (by `sid`) and a
// per-user "valid after" time. Written to the store with the change that causes it, loaded at start,
// and polled so other instances and workers see it within a poll interval.
import { uuidv7 } from '../crypto/random.ts';
import type { Revocation, Store } from '../store/index.ts';

export interface RevocationOptions {
  store: Store;
  clock: () => number;
  /** Entries are kept as long as a token issued before them can live. */
  accessTokenTtlSeconds: number;
  pollMs: number;
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
// Overlap between polls, so a row committed late with an earlier `at` is still seen.
const POLL_OVERLAP_MS = 5_000;

export function createRevocationList(options: RevocationOptions): RevocationList {
  const sessions = new Map<string, number>(); // sid → expires (ms)
  const users = new Map<string, { validAfter: number; expiresAt: number }>(); // validAfter in seconds
  let timer: NodeJS.Timeout | undefined;
  let lastPoll = 0;
  const ttlMs = options.accessTokenTtlSeconds * 1000 + MARGIN_MS;

  function apply(entries: readonly Revocation[]): void {
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

  function prune(now: number): void {
    for (const [sid, expires] of sessions) if (expires <= now) sessions.delete(sid);
    for (const [id, entry] of users) if (entry.expiresAt <= now) users.delete(id);
  }

  async function poll(): Promise<void> {
    const now = options.clock();
    const since = lastPoll - POLL_OVERLAP_MS;
    lastPoll = now;
    apply(await options.store.revocations.listSince(since));
    prune(now);
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
      apply(await options.store.revocations.listActive(now));
      lastPoll = now;
      timer = setInterval(() => {
        poll().catch(() => {
          // A failed poll is retried at the next tick; the local entries stay in force.
        });
      }, options.pollMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
