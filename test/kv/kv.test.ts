// kv conformance: ONE list of cases (cases.ts) run on memory and on Redis, each case under its own
// key prefix. Then what is particular to each: the memory kv's clock and bound, Redis's errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMemoryKv, createRedisKv, type Kv } from '../../src/kv/index.ts';
import { MISSING_REDIS_MESSAGE, redisTestUrl, testKvs, uniquePrefix } from '../support/redis.ts';
import { testClock } from '../support/server.ts';
import { kvCases } from './cases.ts';

for (const kind of testKvs()) {
  describe(`kv conformance on ${kind}`, () => {
    const url = redisTestUrl();
    if (kind === 'redis' && url === undefined) {
      // Selected but not configured: fail loudly rather than pass without having run.
      test('Redis is configured', () => assert.fail(MISSING_REDIS_MESSAGE));
      return;
    }
    for (const c of kvCases) {
      test(c.name, async () => {
        const prefix = uniquePrefix();
        const open = (): Promise<Kv> =>
          kind === 'redis' && url !== undefined
            ? createRedisKv(url, { prefix })
            : Promise.resolve(createMemoryKv());
        const kv = await open();
        try {
          await c.run(kv, open);
        } finally {
          await kv.close();
        }
      });
    }
  });
}

describe('memory kv', () => {
  test('expiry follows the injected clock', async () => {
    const clock = testClock();
    const kv = createMemoryKv({ clock });
    try {
      await kv.set('k', 'v', 1000);
      assert.equal((await kv.incr('c', 1000)).count, 1);
      clock.advance(999);
      assert.equal(await kv.get('k'), 'v');
      assert.equal((await kv.incr('c', 1000)).resetMs, 1);
      clock.advance(1);
      assert.equal(await kv.get('k'), undefined);
      assert.equal((await kv.incr('c', 1000)).count, 1);
    } finally {
      await kv.close();
    }
  });

  test('holds at most maxEntries, dropping the oldest writes first', async () => {
    const kv = createMemoryKv({ maxEntries: 3 });
    try {
      for (const key of ['a', 'b', 'c', 'd']) await kv.set(key, key, 60_000);
      assert.equal(await kv.get('a'), undefined);
      assert.deepEqual(await Promise.all(['b', 'c', 'd'].map((k) => kv.get(k))), ['b', 'c', 'd']);
    } finally {
      await kv.close();
    }
  });
});

// Only where Redis is selected (with PostgreSQL): absent, not skipped, otherwise.
if (testKvs().includes('redis'))
  describe('redis kv', () => {
    test('an unreachable server is an error naming REDIS_URL, never its password', async () => {
      await assert.rejects(
        createRedisKv('redis://:hunter2-secret@127.0.0.1:1', { prefix: 'x:' }),
        (error: unknown) => {
          assert.ok(error instanceof Error);
          assert.match(error.message, /REDIS_URL/);
          assert.doesNotMatch(error.message, /hunter2/);
          return true;
        },
      );
    });

    test('prefixes keep deployments apart on one server', async (t) => {
      const url = redisTestUrl();
      if (url === undefined) return t.assert.fail(MISSING_REDIS_MESSAGE);
      const a = await createRedisKv(url, { prefix: uniquePrefix() });
      const b = await createRedisKv(url, { prefix: uniquePrefix() });
      try {
        await a.set('same', 'a', 60_000);
        assert.equal(await b.get('same'), undefined);
        assert.equal((await a.incr('n', 60_000)).count, 1);
        assert.equal((await b.incr('n', 60_000)).count, 1);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
