// Which sessions exist and are live, so that an access token is accepted only for a session this
// server made: with HS256 every service holding SECRET_KEY can sign, and a well-signed token naming
// a session that never existed (or no longer does) must not pass. The hot path stays in memory:
//
// - Positive answers are kept (bounded, least recently used out), so a live session costs one Map
//   read per request. An entry lives at most one access-token lifetime, then is read again: a
//   missed invalidation can never outlast the tokens it could let through.
// - Filled on demand: a miss is one primary-key read of the sessions table; concurrent misses of
//   one sid share it. The issuing instance fills it when it mints a token, so it never misses.
// - Negative answers are kept briefly (bounded): a flood of one forged sid costs one read per
//   NEGATIVE_TTL_MS per instance; distinct forged sids cost one read each (a holder of the signing
//   key can always make a request cost a read; the pool bounds how many run at once).
// - Invalidated by the revocation entries every instance receives (Redis or the poll): an ended
//   session is dropped, and so is every session of a user whose rights changed.
import type { Revocation } from '../store/index.ts';

export interface StoredSession {
  userId: string;
  expiresAt: number;
  revokedAt: number | null;
}

export interface LiveSessionOptions {
  /** The session row, or undefined when there is none. */
  find(sessionId: string): Promise<StoredSession | undefined>;
  clock: () => number;
  /** Live sessions remembered; 0 reads the sessions table on every request. */
  maxEntries: number;
  /** Longest an entry is trusted before it is read again (the access-token lifetime). */
  maxAgeMs: number;
}

export interface LiveSessions {
  /** Whether the session exists, is live and belongs to `userId`; reads the store on a miss. */
  isLive(sessionId: string, userId: string, now: number): boolean | Promise<boolean>;
  /** A session this instance has just issued a token for. */
  remember(sessionId: string, userId: string): void;
  /** Drops what revocation entries make stale. */
  forget(entries: readonly Revocation[]): void;
  readonly size: number;
}

interface Entry {
  userId: string;
  /** Trusted until (ms): the session's expiry or maxAgeMs after the read, whichever is first. */
  until: number;
  /** Second chance: set on a hit, so eviction passes over recently used entries. */
  used: boolean;
}

const NEGATIVE_TTL_MS = 30_000;
const NEGATIVE_MAX = 10_000;
// Eviction looks at most this many entries for one not used since its last pass.
const EVICTION_SCAN = 8;

export function createLiveSessions(options: LiveSessionOptions): LiveSessions {
  const { maxEntries, maxAgeMs, clock } = options;
  if (!Number.isInteger(maxEntries) || maxEntries < 0) {
    throw new RangeError('createLiveSessions: maxEntries must be a whole number ≥ 0');
  }
  const live = new Map<string, Entry>();
  const unknown = new Map<string, number>(); // sid → until (ms)
  const pending = new Map<string, Promise<StoredSession | undefined>>();

  // Second-chance LRU: a hit only sets a flag (no Map reordering on the hot path); eviction moves
  // used entries to the back and removes the first unused one.
  function evictOne(): void {
    for (let i = 0; i < EVICTION_SCAN; i++) {
      const oldest = live.entries().next();
      if (oldest.done) return;
      const [sid, entry] = oldest.value;
      live.delete(sid);
      if (!entry.used) return;
      entry.used = false;
      live.set(sid, entry);
    }
    const oldest = live.keys().next();
    if (!oldest.done) live.delete(oldest.value);
  }

  function keep(sid: string, userId: string, until: number): void {
    if (maxEntries === 0) return;
    unknown.delete(sid);
    if (!live.has(sid) && live.size >= maxEntries) evictOne();
    live.set(sid, { userId, until, used: false });
  }

  function markUnknown(sid: string, now: number): void {
    if (unknown.size >= NEGATIVE_MAX) {
      const oldest = unknown.keys().next();
      if (!oldest.done) unknown.delete(oldest.value);
    }
    unknown.set(sid, now + NEGATIVE_TTL_MS);
  }

  async function lookUp(sid: string, userId: string): Promise<boolean> {
    let read = pending.get(sid);
    if (!read) {
      read = options.find(sid).finally(() => pending.delete(sid));
      pending.set(sid, read);
    }
    const row = await read;
    const now = clock();
    if (!row || row.revokedAt !== null || row.expiresAt <= now) {
      markUnknown(sid, now);
      return false;
    }
    keep(sid, row.userId, Math.min(row.expiresAt, now + maxAgeMs));
    // The sid is real but another user's: a forged pairing, refused (the entry stays for the owner).
    return row.userId === userId;
  }

  return {
    isLive(sid, userId, now) {
      const entry = live.get(sid);
      if (entry !== undefined) {
        if (entry.until > now) {
          entry.used = true;
          return entry.userId === userId;
        }
        live.delete(sid);
      }
      const until = unknown.get(sid);
      if (until !== undefined) {
        if (until > now) return false;
        unknown.delete(sid);
      }
      return lookUp(sid, userId);
    },
    remember(sid, userId) {
      keep(sid, userId, clock() + maxAgeMs);
    },
    forget(entries) {
      const users = new Set<string>();
      for (const entry of entries) {
        if (entry.kind === 'session') live.delete(entry.subject);
        else users.add(entry.subject);
      }
      if (users.size === 0) return;
      // Rare (an admin change, a password change, a deletion): a scan of at most maxEntries.
      for (const [sid, entry] of live) if (users.has(entry.userId)) live.delete(sid);
    },
    get size() {
      return live.size;
    },
  };
}
