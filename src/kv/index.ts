// Shared state for the rules: Redis when REDIS_URL is set, else this process's memory.
import { createMemoryKv } from './memory.ts';
import { createRedisKv } from './redis.ts';
import type { Kv } from './types.ts';

export { createMemoryKv } from './memory.ts';
export { createRedisKv } from './redis.ts';
export type { Counter, Kv, MessageHandler } from './types.ts';

export interface KvSettings {
  redisUrl: string | undefined;
  redisPrefix: string;
}

export async function openKv(
  settings: KvSettings,
  clock: () => number,
  onError?: (error: Error) => void,
): Promise<Kv> {
  if (settings.redisUrl === undefined) return createMemoryKv({ clock });
  return createRedisKv(settings.redisUrl, {
    prefix: settings.redisPrefix,
    ...(onError ? { onError } : {}),
  });
}
