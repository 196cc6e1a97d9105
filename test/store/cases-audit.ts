// Conformance cases for the audit log: the chain, its head, queries, and concurrent appends.
import assert from 'node:assert/strict';
import { verifyAuditChain } from '../../src/auth/audit/index.ts';
import { canonicalJson, chainHash, type NewAuditEntry } from '../../src/store/index.ts';
import { GENESIS_HASH } from '../../src/store/migrations/2026_11_23_000002_audit.ts';
import { type StoreCase, T0 } from './harness.ts';

function entry(overrides: Partial<NewAuditEntry> = {}): NewAuditEntry {
  return {
    at: T0,
    type: 'login.success',
    actorId: 'user-1',
    subjectId: 'user-1',
    ip: '127.0.0.1',
    userAgent: 'test',
    details: canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }),
    ...overrides,
  };
}

export const auditCases: StoreCase[] = [
  {
    name: 'audit: canonical JSON sorts keys at every level and drops undefined members',
    async run() {
      assert.equal(
        canonicalJson({ b: 1, a: [2, { d: 3, c: undefined, e: null }] }),
        '{"a":[2,{"d":3,"e":null}],"b":1}',
      );
    },
  },
  {
    name: 'audit: appends form a chain from the genesis hash; the head follows the last entry',
    async run({ store }) {
      assert.deepEqual(await store.audit.head(), { seq: 0, hash: GENESIS_HASH });
      const first = await store.audit.append(entry());
      const second = await store.audit.append(entry({ type: 'login.failure', actorId: null }));
      assert.equal(first.seq, 1);
      assert.equal(first.prevHash, GENESIS_HASH);
      assert.equal(first.hash, chainHash(GENESIS_HASH, first));
      assert.match(first.hash, /^[0-9a-f]{64}$/);
      assert.equal(second.seq, 2);
      assert.equal(second.prevHash, first.hash);
      assert.equal(second.hash, chainHash(first.hash, second));
      assert.deepEqual(await store.audit.head(), { seq: 2, hash: second.hash });
      assert.deepEqual(await store.audit.scan(0, 10), [first, second]);
      assert.deepEqual(await store.audit.scan(1, 10), [second]);
      const report = await verifyAuditChain(store);
      assert.equal(report.problem, undefined);
      assert.equal(report.entries, 2);
    },
  },
  {
    name: 'audit: the hash covers every column (changing any one changes it)',
    async run() {
      const base = { ...entry(), seq: 7 };
      const h = chainHash(GENESIS_HASH, base);
      const variants: Array<Partial<typeof base>> = [
        { seq: 8 },
        { at: T0 + 1 },
        { type: 'login.failure' },
        { actorId: null },
        { subjectId: 'user-2' },
        { ip: null },
        { userAgent: 'other' },
        { details: '{}' },
      ];
      for (const v of variants) assert.notEqual(chainHash(GENESIS_HASH, { ...base, ...v }), h);
      assert.notEqual(chainHash('f'.repeat(64), base), h);
      // Column boundaries are unambiguous: moving text from one column to the next changes the hash.
      assert.notEqual(
        chainHash(GENESIS_HASH, { ...base, ip: '1', userAgent: '2' }),
        chainHash(GENESIS_HASH, { ...base, ip: '12', userAgent: '' }),
      );
    },
  },
  {
    name: 'audit: an append rolled back with its transaction leaves no entry and no gap',
    async run({ store }) {
      await store.audit.append(entry());
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.audit.append(entry({ type: 'user.delete' }));
          throw new Error('change failed');
        }),
        /change failed/,
      );
      const next = await store.audit.append(entry({ type: 'user.update' }));
      assert.equal(next.seq, 2);
      assert.deepEqual(
        (await store.audit.scan(0, 10)).map((e) => e.type),
        ['login.success', 'user.update'],
      );
      assert.equal((await verifyAuditChain(store)).problem, undefined);
    },
  },
  {
    name: 'audit: 40 concurrent appends in their own transactions chain one after another',
    async run({ store }) {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          store.transaction(async (tx) => {
            await tx.users.count();
            await tx.audit.append(entry({ actorId: `user-${i}` }));
          }),
        ),
      );
      // And 10 appends made outside any transaction (the repository makes one for each).
      await Promise.all(Array.from({ length: 10 }, () => store.audit.append(entry())));
      const all = await store.audit.scan(0, 100);
      assert.deepEqual(
        all.map((e) => e.seq),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      const report = await verifyAuditChain(store);
      assert.equal(report.problem, undefined, report.problem?.reason);
      assert.equal(report.entries, 50);
    },
  },
  {
    name: 'audit: list is newest first, filtered by type, actor, subject, user and time, paged by seq',
    async run({ store }) {
      const add = (o: Partial<NewAuditEntry>) => store.audit.append(entry(o));
      await add({ type: 'login.success', actorId: 'alice', subjectId: 'alice', at: T0 + 1 });
      await add({ type: 'login.failure', actorId: null, subjectId: 'bob', at: T0 + 2 });
      await add({ type: 'admin.user_update', actorId: 'alice', subjectId: 'bob', at: T0 + 3 });
      await add({ type: 'login.failure', actorId: null, subjectId: null, at: T0 + 4 });
      const seqs = async (q: Parameters<typeof store.audit.list>[0]) =>
        (await store.audit.list(q)).map((e) => e.seq);
      assert.deepEqual(await seqs({ limit: 10 }), [4, 3, 2, 1]);
      assert.deepEqual(await seqs({ limit: 2 }), [4, 3]);
      assert.deepEqual(await seqs({ limit: 2, beforeSeq: 3 }), [2, 1]);
      assert.deepEqual(await seqs({ limit: 10, types: ['login.failure'] }), [4, 2]);
      assert.deepEqual(
        await seqs({ limit: 10, types: ['login.success', 'admin.user_update'] }),
        [3, 1],
      );
      assert.deepEqual(await seqs({ limit: 10, actorId: 'alice' }), [3, 1]);
      assert.deepEqual(await seqs({ limit: 10, subjectId: 'bob' }), [3, 2]);
      assert.deepEqual(await seqs({ limit: 10, userId: 'bob' }), [3, 2]);
      assert.deepEqual(await seqs({ limit: 10, userId: 'alice' }), [3, 1]);
      assert.deepEqual(await seqs({ limit: 10, since: T0 + 2, until: T0 + 3 }), [3, 2]);
      assert.deepEqual(await seqs({ limit: 10, userId: "x' or '1'='1" }), []);
    },
  },
];
