// The in-process kv: a Map with expiry times read from the injected clock, and local pub/sub.
// Right for one process; several instances or workers each count on their own (use Redis there).
import { assertName, assertTtl, type Counter, type Kv, type MessageHandler } from './types.ts';

export interface MemoryKvOptions {
  /** Milliseconds since the epoch; the server passes its own (tests inject a frozen clock). */
  clock?: () => number;
  /** Entries kept at most; the oldest are dropped first, so a flood cannot exhaust memory. */
  maxEntries?: number;
  /** How often expired entries are swept (they are also ignored when read). */
  sweepMs?: number;
  /** Told about a subscriber that threw; the other subscribers still get the message. */
  onError?: (error: Error) => void;
}

interface Entry {
  value: string;
  expiresAt: number;
}

export function createMemoryKv(options: MemoryKvOptions = {}): Kv {
  const clock = options.clock ?? Date.now;
  const maxEntries = options.maxEntries ?? 250_000;
  const entries = new Map<string, Entry>();
  const channels = new Map<string, Set<MessageHandler>>();
  let closed = false;

  function live(key: string, now: number): Entry | undefined {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  function put(key: string, entry: Entry): void {
    entries.delete(key);
    entries.set(key, entry);
    // Map order is insertion order: the first key is the one written longest ago.
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done) break;
      entries.delete(oldest.value);
    }
  }

  function sweep(): void {
    const now = clock();
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
  }

  const timer = setInterval(sweep, options.sweepMs ?? 60_000);
  timer.unref();

  function open(): void {
    if (closed) throw new Error('kv is closed');
  }

  return {
    kind: 'memory',
    async incr(key: string, windowMs: number): Promise<Counter> {
      open();
      assertName(key, 'key');
      assertTtl(windowMs);
      const now = clock();
      const entry = live(key, now);
      if (!entry) {
        put(key, { value: '1', expiresAt: now + windowMs });
        return { count: 1, resetMs: windowMs };
      }
      const count = Number(entry.value) + 1;
      // Same rule as Redis INCR: only an integer value can be incremented.
      if (!Number.isSafeInteger(count)) throw new Error(`kv value of ${key} is not an integer`);
      entry.value = String(count);
      return { count, resetMs: entry.expiresAt - now };
    },
    async get(key: string): Promise<string | undefined> {
      open();
      assertName(key, 'key');
      return live(key, clock())?.value;
    },
    async set(key: string, value: string, ttlMs: number): Promise<void> {
      open();
      assertName(key, 'key');
      assertTtl(ttlMs);
      put(key, { value, expiresAt: clock() + ttlMs });
    },
    async del(key: string): Promise<void> {
      open();
      assertName(key, 'key');
      entries.delete(key);
    },
    async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
      open();
      assertName(key, 'key');
      assertTtl(ttlMs);
      const now = clock();
      if (live(key, now)) return false;
      put(key, { value, expiresAt: now + ttlMs });
      return true;
    },
    async delIfEquals(key: string, value: string): Promise<boolean> {
      open();
      assertName(key, 'key');
      if (live(key, clock())?.value !== value) return false;
      entries.delete(key);
      return true;
    },
    async appendLog(log: string, _message: string, keepMs: number): Promise<void> {
      open();
      assertName(log, 'key');
      assertTtl(keepMs);
      // Only another process would read it, and none shares this memory.
    },
    async publish(channel: string, message: string): Promise<void> {
      open();
      assertName(channel, 'channel');
      for (const handler of channels.get(channel) ?? []) {
        // Delivered later, never inside the publisher's call, as a network broker would.
        setImmediate(() => {
          try {
            handler(message);
          } catch (error) {
            // One faulty handler must not stop the others nor crash the process.
            options.onError?.(error as Error);
          }
        });
      }
    },
    async subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
      open();
      assertName(channel, 'channel');
      // Each subscription is its own entry, so the same function may subscribe twice.
      const own: MessageHandler = (message) => handler(message);
      const set = channels.get(channel) ?? new Set<MessageHandler>();
      set.add(own);
      channels.set(channel, set);
      return async () => {
        set.delete(own);
      };
    },
    async ping(): Promise<void> {
      open();
    },
    async close(): Promise<void> {
      closed = true;
      clearInterval(timer);
      channels.clear();
      entries.clear();
    },
  };
}
