// The guard's revocation awareness (SPEC §7, §11): Portcullis appends every revocation (a logout, a
// session ended, a password change, a deactivation) to a Redis stream it keeps for one token
// lifetime. This reads it: everything still relevant at start, then each new entry as it arrives
// (a blocking XREAD, so within milliseconds), and after a lost connection whatever came meanwhile,
// from the last entry seen. The check itself is in memory: no Redis round trip per request.
import { Redis } from 'ioredis';
import { parseRevocationMessage } from '../tokens/revocation-message.ts';
import type { GuardClaims } from './verifier.ts';

export interface RedisRevocationOptions {
  /** Portcullis's REDIS_URL. */
  redisUrl: string;
  /** Portcullis's REDIS_PREFIX (default `portcullis:`). */
  prefix?: string;
  /** How far back to read at start: Portcullis's access-token lifetime plus a minute (default 16 min). */
  lookbackMs?: number;
  /** Told about connection trouble (the check keeps answering from what it has). */
  onError?: (error: Error) => void;
  clock?: () => number;
}

export interface RedisRevocations {
  isRevoked(claims: Pick<GuardClaims, 'sid' | 'sub' | 'iat'>): boolean;
  /** Resolves once the entries of the lookback window are loaded. */
  ready: Promise<void>;
  close(): Promise<void>;
}

const LOG = 'revocation-log';
const BLOCK_MS = 5_000;
const RETRY_MS = 500;

export function createRedisRevocations(options: RedisRevocationOptions): RedisRevocations {
  const key = `${options.prefix ?? 'portcullis:'}${LOG}`;
  const clock = options.clock ?? Date.now;
  const sessions = new Map<string, number>(); // sid → until (ms)
  const users = new Map<string, { validAfter: number; until: number }>(); // validAfter in s
  // Fail fast while Redis is away: the loop retries; a queued command would only be stale later.
  const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', (error: Error) => options.onError?.(error));
  let lastId = `${Math.max(0, clock() - (options.lookbackMs ?? 16 * 60_000))}-0`;
  let closed = false;

  function apply(message: string): void {
    for (const e of parseRevocationMessage(message)) {
      if (e.kind === 'session') {
        sessions.set(e.subject, Math.max(e.expiresAt, sessions.get(e.subject) ?? 0));
      } else {
        const validAfter = Math.ceil(e.at / 1000);
        const current = users.get(e.subject);
        if (!current || current.validAfter < validAfter) {
          users.set(e.subject, { validAfter, until: e.expiresAt });
        }
      }
    }
  }

  function prune(): void {
    const now = clock();
    for (const [sid, until] of sessions) if (until <= now) sessions.delete(sid);
    for (const [id, entry] of users) if (entry.until <= now) users.delete(id);
  }

  function take(entries: Array<[string, string[]]>): void {
    for (const [id, fields] of entries) {
      lastId = id;
      const at = fields.indexOf('m');
      if (at >= 0 && typeof fields[at + 1] === 'string') apply(fields[at + 1] as string);
    }
  }

  async function catchUp(): Promise<void> {
    // Exclusive of the last id seen: each entry is applied once (applying twice would be harmless).
    const entries = (await redis.xrange(key, `(${lastId}`, '+')) as Array<[string, string[]]>;
    take(entries);
  }

  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  async function loop(): Promise<void> {
    let caughtUp = false;
    while (!closed) {
      try {
        if (redis.status === 'wait' || redis.status === 'end') await redis.connect();
        if (!caughtUp) {
          await catchUp();
          caughtUp = true;
          markReady();
        }
        const answer = (await redis.xread('BLOCK', BLOCK_MS, 'STREAMS', key, lastId)) as Array<
          [string, Array<[string, string[]]>]
        > | null;
        for (const [, entries] of answer ?? []) take(entries);
        prune();
      } catch (error) {
        if (closed) return;
        options.onError?.(error as Error);
        // After a disconnection, read what came meanwhile before blocking again.
        caughtUp = false;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }
  void loop();

  return {
    isRevoked({ sid, sub, iat }) {
      if (sessions.has(sid)) return true;
      const user = users.get(sub);
      return user !== undefined && typeof iat === 'number' && iat < user.validAfter;
    },
    ready,
    async close() {
      closed = true;
      // The blocked XREAD ends with the connection.
      redis.disconnect();
    },
  };
}
