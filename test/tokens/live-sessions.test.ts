// The live-session cache (src/tokens/live-sessions.ts) on its own, over a sessions table held in a
// Map: how many reads each kind of request costs, which is what keeps it off the hot path and what
// a flood of forged session ids can make it do.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLiveSessions, type StoredSession } from '../../src/tokens/live-sessions.ts';
import { testClock } from '../support/server.ts';

function setUp(maxEntries = 100) {
  const clock = testClock(1_764_000_000_000);
  const table = new Map<string, StoredSession>();
  let reads = 0;
  const live = createLiveSessions({
    find: async (id) => {
      reads += 1;
      await Promise.resolve();
      return table.get(id);
    },
    clock,
    maxEntries,
    maxAgeMs: 60_000,
  });
  const add = (id: string, userId: string): void => {
    table.set(id, { userId, expiresAt: clock() + 86_400_000, revokedAt: null });
  };
  return { clock, table, live, add, reads: () => reads };
}

describe('live sessions', () => {
  it('a known live session is answered in memory: one read, then none', async () => {
    const t = setUp();
    t.add('s1', 'u1');
    assert.equal(await t.live.isLive('s1', 'u1', t.clock()), true);
    for (let i = 0; i < 100; i++) assert.equal(t.live.isLive('s1', 'u1', t.clock()), true);
    assert.equal(t.reads(), 1);
  });

  it('a session issued here is never read', () => {
    const t = setUp();
    t.live.remember('s1', 'u1');
    assert.equal(t.live.isLive('s1', 'u1', t.clock()), true);
    assert.equal(t.reads(), 0);
  });

  it('an unknown sid costs one read per 30 s however often it is sent, concurrent ones share it', async () => {
    const t = setUp();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => t.live.isLive('x', 'u1', t.clock())),
    );
    assert.deepEqual(new Set(answers), new Set([false]));
    for (let i = 0; i < 50; i++) assert.equal(await t.live.isLive('x', 'u1', t.clock()), false);
    assert.equal(t.reads(), 1);
    t.clock.advance(30_001);
    assert.equal(await t.live.isLive('x', 'u1', t.clock()), false);
    assert.equal(t.reads(), 2);
  });

  it('refuses a real sid paired with another user, revoked and expired sessions', async () => {
    const t = setUp();
    t.add('s1', 'u1');
    assert.equal(await t.live.isLive('s1', 'intruder', t.clock()), false);
    assert.equal(await t.live.isLive('s1', 'u1', t.clock()), true);
    t.table.set('s2', { userId: 'u2', expiresAt: t.clock() + 1000, revokedAt: t.clock() });
    assert.equal(await t.live.isLive('s2', 'u2', t.clock()), false);
    t.table.set('s3', { userId: 'u3', expiresAt: t.clock(), revokedAt: null });
    assert.equal(await t.live.isLive('s3', 'u3', t.clock()), false);
  });

  it('revocation entries drop sessions (by sid, or every session of the user); entries expire', async () => {
    const t = setUp();
    for (const [sid, user] of [
      ['a', 'u1'],
      ['b', 'u1'],
      ['c', 'u2'],
    ] as const) {
      t.add(sid, user);
      assert.equal(await t.live.isLive(sid, user, t.clock()), true);
    }
    const entry = (kind: 'session' | 'user', subject: string) => ({
      id: subject,
      kind,
      subject,
      at: t.clock(),
      expiresAt: t.clock() + 1,
    });
    t.table.delete('c');
    t.live.forget([entry('session', 'c')]);
    assert.equal(await t.live.isLive('c', 'u2', t.clock()), false);
    t.table.delete('a');
    t.live.forget([entry('user', 'u1')]);
    assert.equal(await t.live.isLive('a', 'u1', t.clock()), false);
    assert.equal(await t.live.isLive('b', 'u1', t.clock()), true, 'read again, still live');
    const before = t.reads();
    t.clock.advance(60_001);
    assert.equal(await t.live.isLive('b', 'u1', t.clock()), true);
    assert.equal(t.reads(), before + 1, 'read again after one token lifetime');
  });

  it('stays within its bound and keeps the sessions in use', async () => {
    const t = setUp(4);
    t.add('hot', 'u');
    assert.equal(await t.live.isLive('hot', 'u', t.clock()), true);
    for (let i = 0; i < 20; i++) {
      t.add(`s${i}`, 'u');
      assert.equal(await t.live.isLive(`s${i}`, 'u', t.clock()), true);
      assert.equal(t.live.isLive('hot', 'u', t.clock()), true, 'the hot session is never evicted');
      assert.ok(t.live.size <= 4);
    }
  });
});
