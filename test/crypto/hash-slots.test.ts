// Where password hashes run (src/crypto/hash-slots.ts): a bounded number at a time, in order, on
// libuv's pool threads at a lower priority than the event loop.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, test } from 'node:test';
import { createHashSlots, POOL_NICE_STEP, poolThreadIds } from '../../src/crypto/hash-slots.ts';
import { createPasswordHasher, TEST_PARAMS } from '../../src/crypto/passwords.ts';

function deferred(): { promise: Promise<void>; resolve(): void; reject(e: Error): void } {
  let resolve = () => {};
  let reject: (e: Error) => void = () => {};
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('hash slots', () => {
  test('at most `width` run at once, and the waiting start in arrival order', async () => {
    const slots = createHashSlots(2);
    const gates = Array.from({ length: 6 }, deferred);
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const all = gates.map((gate, i) =>
      slots.run(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await gate.promise;
        running--;
        return i;
      }),
    );
    await tick();
    assert.deepEqual(started, [0, 1]);
    for (const i of [1, 0, 3, 2, 5, 4]) {
      gates[i]?.resolve();
      await tick();
    }
    assert.deepEqual(await Promise.all(all), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
    assert.equal(peak, 2);
  });

  test('a failing hash passes its error on and frees its slot', async () => {
    const slots = createHashSlots(1);
    const gate = deferred();
    const failing = slots.run(() => gate.promise);
    const next = slots.run(async () => 'ran');
    gate.reject(new Error('boom'));
    await assert.rejects(failing, /boom/);
    assert.equal(await next, 'ran');
  });

  test('after a hash, every libuv pool thread runs below the event loop’s priority', async () => {
    await createPasswordHasher(TEST_PARAMS).hash('correct horse battery staple');
    const tids = poolThreadIds();
    assert.ok(tids.length > 0, 'no libuv-worker thread found in /proc/self/task');
    const main = getPriority(process.pid);
    for (const tid of tids) {
      // Field 19 of /proc/…/stat is the nice value (after the parenthesised name).
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      assert.ok(nice >= Math.min(19, main + POOL_NICE_STEP), `thread ${tid} has nice ${nice}`);
    }
    assert.equal(getPriority(process.pid), main, 'the event loop thread was reniced');
  });
});
