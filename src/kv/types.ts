// The shared-state contract: counters with expiry, keys with a time to live, and publish/subscribe.
// One implementation per backend (memory for one process, Redis for many); test/kv runs the same
// conformance cases on each, so rules written against this interface behave alike on both.

export interface Counter {
  /** The value after this increment (1 for a new or expired key). */
  count: number;
  /** Milliseconds until the counter expires and starts again from zero. */
  resetMs: number;
}

export type MessageHandler = (message: string) => void;

export interface Kv {
  /** 'memory' counts in this process only; 'redis' is shared by every instance on the server. */
  readonly kind: 'memory' | 'redis';
  /** Atomically add one; a new key lives `windowMs` from its first increment (a fixed window). */
  incr(key: string, windowMs: number): Promise<Counter>;
  get(key: string): Promise<string | undefined>;
  /** Store a value that disappears after `ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
  /** Store a value only if the key holds none (atomically); true when this call stored it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Delete the key only if it still holds `value` (atomically); true when this call deleted it. */
  delIfEquals(key: string, value: string): Promise<boolean>;
  /** Deliver a message to every subscriber of the channel (in every instance sharing the kv). */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Append a message to a log that readers outside the server (the guard) can replay; entries
   * older than `keepMs` may be dropped. Redis: a stream; memory: nothing (no other process sees it).
   */
  appendLog(log: string, message: string, keepMs: number): Promise<void>;
  /** Resolves once subscribed; the returned function unsubscribes this handler. */
  subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>>;
  /** Rejects when the backend does not answer (readiness checks). */
  ping(): Promise<void>;
  /** Waits for queued writes (a publish just made) and releases connections and timers. */
  close(): Promise<void>;
}

/** Keys and channels are plain printable text; anything else is a programming error. */
export function assertName(name: string, what: 'key' | 'channel'): void {
  if (name.length === 0 || name.length > 512 || !/^[\x21-\x7E]+$/.test(name)) {
    throw new TypeError(`kv ${what} must be 1–512 printable ASCII characters without spaces`);
  }
}

export function assertTtl(ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < 1) {
    throw new RangeError('kv time to live must be a positive whole number of milliseconds');
  }
}
