// The Redis kv: shared by every instance on one Redis. Counters are atomic (one Lua script per
// increment), keys and channels carry a prefix so that several deployments can share a server.
import { Redis } from 'ioredis';
import { assertName, assertTtl, type Counter, type Kv, type MessageHandler } from './types.ts';

export interface RedisKvOptions {
  /** Put before every key and channel, e.g. `portcullis:`. */
  prefix: string;
  /** Called with connection errors, which otherwise surface as failed commands. */
  onError?: (error: Error) => void;
}

// INCR and the expiry in one step: a counter can never be left without its expiry by a crash
// between two commands. A key found without an expiry (written by something else) is given one.
const INCR_WINDOW = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

// Compare and delete in one step: a holder whose entry expired never deletes its successor's.
const DEL_IF_EQUALS = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const OPTIONS = {
  lazyConnect: true,
  connectTimeout: 5_000,
  // While Redis is away a command fails at once rather than queueing behind the reconnection, and
  // a hung server fails it within a second: the caller decides (lockout closed, rate limit open).
  enableOfflineQueue: false,
  commandTimeout: 1_000,
  maxRetriesPerRequest: 1,
} as const;

/** Connects (or rejects with a message naming REDIS_URL, never its password). */
export async function createRedisKv(url: string, options: RedisKvOptions): Promise<Kv> {
  const { prefix } = options;
  const onError = options.onError ?? (() => {});
  const client = new Redis(url, { ...OPTIONS });
  client.on('error', onError);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new Error(`REDIS_URL: cannot reach Redis (${(error as Error).message})`);
  }

  let subscriber: Redis | undefined;
  let subscriberReady: Promise<Redis> | undefined;
  const channels = new Map<string, Set<MessageHandler>>();

  function deliver(channel: string, message: string): void {
    for (const handler of channels.get(channel) ?? []) {
      try {
        handler(message);
      } catch (error) {
        // One faulty handler must not stop the others nor the connection's event loop.
        onError(error as Error);
      }
    }
  }

  function subscriberClient(): Promise<Redis> {
    if (subscriberReady) return subscriberReady;
    // A connection in subscriber mode can run no other command: it gets its own. It retries
    // for ever and re-subscribes by itself after a reconnect.
    const sub = client.duplicate({
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
      enableOfflineQueue: true,
    });
    sub.on('error', onError);
    sub.on('message', deliver);
    subscriber = sub;
    subscriberReady = sub.connect().then(() => sub);
    return subscriberReady;
  }

  return {
    kind: 'redis',
    async incr(key: string, windowMs: number): Promise<Counter> {
      assertName(key, 'key');
      assertTtl(windowMs);
      const reply = (await client.eval(INCR_WINDOW, 1, prefix + key, windowMs)) as [number, number];
      return { count: Number(reply[0]), resetMs: Number(reply[1]) };
    },
    async get(key: string): Promise<string | undefined> {
      assertName(key, 'key');
      return (await client.get(prefix + key)) ?? undefined;
    },
    async set(key: string, value: string, ttlMs: number): Promise<void> {
      assertName(key, 'key');
      assertTtl(ttlMs);
      await client.set(prefix + key, value, 'PX', ttlMs);
    },
    async del(key: string): Promise<void> {
      assertName(key, 'key');
      await client.del(prefix + key);
    },
    async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
      assertName(key, 'key');
      assertTtl(ttlMs);
      return (await client.set(prefix + key, value, 'PX', ttlMs, 'NX')) === 'OK';
    },
    async delIfEquals(key: string, value: string): Promise<boolean> {
      assertName(key, 'key');
      return Number(await client.eval(DEL_IF_EQUALS, 1, prefix + key, value)) === 1;
    },
    async appendLog(log: string, message: string, keepMs: number): Promise<void> {
      assertName(log, 'key');
      assertTtl(keepMs);
      // Stream ids are ms timestamps: MINID trims what is older than keepMs, in the same command.
      const minId = Math.max(0, Date.now() - keepMs);
      await client.xadd(prefix + log, 'MINID', '~', String(minId), '*', 'm', message);
    },
    async publish(channel: string, message: string): Promise<void> {
      assertName(channel, 'channel');
      await client.publish(prefix + channel, message);
    },
    async subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
      assertName(channel, 'channel');
      const name = prefix + channel;
      const sub = await subscriberClient();
      const own: MessageHandler = (message) => handler(message);
      const set = channels.get(name) ?? new Set<MessageHandler>();
      const first = set.size === 0;
      set.add(own);
      channels.set(name, set);
      if (first) await sub.subscribe(name);
      return async () => {
        set.delete(own);
        if (set.size === 0 && channels.get(name) === set) {
          channels.delete(name);
          await sub.unsubscribe(name);
        }
      };
    },
    async ping(): Promise<void> {
      await client.ping();
    },
    async close(): Promise<void> {
      channels.clear();
      // QUIT is sent after the commands already queued, so a publish just made still goes out.
      await Promise.allSettled([client.quit(), subscriber?.quit()]);
    },
  };
}
