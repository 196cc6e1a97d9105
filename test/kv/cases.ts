// The kv conformance cases: every backend must pass all of them (test/kv/kv.test.ts runs them).
import assert from 'node:assert/strict';
import type { Kv } from '../../src/kv/index.ts';
import { wait } from '../support/fixtures.ts';

export interface KvCase {
  name: string;
  /** `open` makes another client of the same backend (a second instance, same prefix). */
  run(kv: Kv, open: () => Promise<Kv>): Promise<void>;
}

const received = (
  kv: Kv,
  channel: string,
): Promise<{ messages: string[]; stop(): Promise<void> }> => {
  const messages: string[] = [];
  return kv.subscribe(channel, (m) => messages.push(m)).then((stop) => ({ messages, stop }));
};

async function until(check: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await wait(10);
  }
}

export const kvCases: KvCase[] = [
  {
    name: 'incr counts from 1 and reports the time left in the window',
    async run(kv) {
      const first = await kv.incr('c:a', 60_000);
      assert.equal(first.count, 1);
      assert.ok(first.resetMs > 59_000 && first.resetMs <= 60_000, String(first.resetMs));
      const second = await kv.incr('c:a', 60_000);
      assert.equal(second.count, 2);
      assert.ok(second.resetMs <= first.resetMs);
      assert.equal((await kv.incr('c:b', 60_000)).count, 1, 'keys count apart');
    },
  },
  {
    name: 'incr is atomic: 200 concurrent increments get 200 distinct counts',
    async run(kv) {
      const results = await Promise.all(
        Array.from({ length: 200 }, () => kv.incr('c:race', 60_000)),
      );
      const counts = results.map((r) => r.count).sort((x, y) => x - y);
      assert.deepEqual(
        counts,
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
    },
  },
  {
    name: 'a window is fixed from the first increment and starts again at 1 when it ends',
    async run(kv) {
      assert.equal((await kv.incr('c:w', 150)).count, 1);
      await wait(60);
      const later = await kv.incr('c:w', 150);
      assert.equal(later.count, 2);
      assert.ok(later.resetMs < 150, 'a later increment does not extend the window');
      await wait(200);
      assert.equal((await kv.incr('c:w', 150)).count, 1);
    },
  },
  {
    name: 'get, set with a time to live, overwrite and del',
    async run(kv) {
      assert.equal(await kv.get('k:missing'), undefined);
      await kv.set('k:a', 'one', 60_000);
      assert.equal(await kv.get('k:a'), 'one');
      await kv.set('k:a', 'two ünïcode {"json":true}', 60_000);
      assert.equal(await kv.get('k:a'), 'two ünïcode {"json":true}');
      await kv.del('k:a');
      assert.equal(await kv.get('k:a'), undefined);
      await kv.del('k:a');
    },
  },
  {
    name: 'a value disappears when its time to live ends',
    async run(kv) {
      await kv.set('k:short', 'v', 100);
      await kv.set('k:long', 'v', 60_000);
      await wait(250);
      assert.equal(await kv.get('k:short'), undefined);
      assert.equal(await kv.get('k:long'), 'v');
    },
  },
  {
    name: 'setIfAbsent stores once: of 50 concurrent calls exactly one wins, until the value expires',
    async run(kv) {
      const won = await Promise.all(
        Array.from({ length: 50 }, (_, i) => kv.setIfAbsent('s:race', `owner${i}`, 150)),
      );
      assert.equal(won.filter(Boolean).length, 1);
      const owner = `owner${won.indexOf(true)}`;
      assert.equal(await kv.get('s:race'), owner);
      assert.equal(await kv.setIfAbsent('s:race', 'late', 150), false);
      await wait(250);
      assert.equal(await kv.setIfAbsent('s:race', 'late', 60_000), true, 'free once expired');
      assert.equal(await kv.get('s:race'), 'late');
    },
  },
  {
    name: 'delIfEquals deletes only the value it names',
    async run(kv) {
      assert.equal(await kv.delIfEquals('s:gone', 'x'), false);
      await kv.set('s:held', 'mine', 60_000);
      assert.equal(await kv.delIfEquals('s:held', 'theirs'), false);
      assert.equal(await kv.get('s:held'), 'mine');
      assert.equal(await kv.delIfEquals('s:held', 'mine'), true);
      assert.equal(await kv.get('s:held'), undefined);
      assert.equal(await kv.setIfAbsent('s:held', 'next', 60_000), true);
    },
  },
  {
    name: 'incr continues an integer that was set, and refuses one that is not',
    async run(kv) {
      await kv.set('k:n', '41', 60_000);
      assert.equal((await kv.incr('k:n', 60_000)).count, 42);
      await kv.set('k:text', 'abc', 60_000);
      await assert.rejects(kv.incr('k:text', 60_000));
      assert.equal(await kv.get('k:text'), 'abc');
    },
  },
  {
    name: 'publish reaches every subscriber of the channel, and only them',
    async run(kv) {
      const a = await received(kv, 'ch:one');
      const b = await received(kv, 'ch:one');
      const other = await received(kv, 'ch:two');
      await kv.publish('ch:one', 'hello');
      await kv.publish('ch:none', 'nobody listens');
      await until(() => a.messages.length === 1 && b.messages.length === 1);
      assert.deepEqual(a.messages, ['hello']);
      assert.deepEqual(b.messages, ['hello']);
      await wait(50);
      assert.deepEqual(other.messages, []);
      await a.stop();
      await kv.publish('ch:one', 'again');
      await until(() => b.messages.length === 2);
      assert.deepEqual(a.messages, ['hello'], 'an unsubscribed handler hears nothing more');
      await b.stop();
      await other.stop();
    },
  },
  {
    name: 'a throwing subscriber does not stop the others',
    async run(kv) {
      const stopBad = await kv.subscribe('ch:bad', () => {
        throw new Error('handler bug');
      });
      const good = await received(kv, 'ch:bad');
      await kv.publish('ch:bad', 'x');
      await kv.publish('ch:bad', 'y');
      await until(() => good.messages.length === 2);
      await stopBad();
      await good.stop();
    },
  },
  {
    name: 'keys and windows are refused when malformed',
    async run(kv) {
      await assert.rejects(kv.get(''), TypeError);
      await assert.rejects(kv.set('has space', 'v', 1000), TypeError);
      await assert.rejects(kv.set('k', 'v', 0), RangeError);
      await assert.rejects(kv.incr('k', 1.5), RangeError);
      await assert.rejects(kv.publish('bad\nchannel', 'v'), TypeError);
    },
  },
  {
    name: 'a second client shares counters, values and messages exactly when the backend is shared',
    async run(kv, open) {
      const other = await open();
      try {
        await kv.incr('s:count', 60_000);
        await kv.set('s:value', 'from one', 60_000);
        const heard = await received(other, 's:channel');
        await kv.publish('s:channel', 'from one');
        if (kv.kind === 'redis') {
          assert.equal((await other.incr('s:count', 60_000)).count, 2);
          assert.equal(await other.get('s:value'), 'from one');
          await until(() => heard.messages.length === 1);
        } else {
          // Memory is per process by design: that is what Redis is for.
          assert.equal((await other.incr('s:count', 60_000)).count, 1);
          assert.equal(await other.get('s:value'), undefined);
          await wait(50);
          assert.deepEqual(heard.messages, []);
        }
        await heard.stop();
      } finally {
        await other.close();
      }
    },
  },
  {
    name: 'ping answers while open; close waits for a publish just made, then refuses work',
    async run(kv, open) {
      await kv.ping();
      const listener = await open();
      const closing = await open();
      try {
        const heard = await received(listener, 'c:last');
        const publishing = closing.publish('c:last', 'sent before close');
        await closing.close();
        await publishing;
        if (kv.kind === 'redis') await until(() => heard.messages.length === 1);
        await assert.rejects(closing.get('k'));
        await assert.rejects(closing.ping());
        await heard.stop();
      } finally {
        await listener.close();
        await closing.close();
      }
    },
  },
];
