// Walks the audit chain from the first entry and names the first one that does not hold: a changed
// entry (its hash no longer matches its content), a removed or reordered one (seq gap, prev_hash
// mismatch), or a cut tail (the head row names an entry that is gone).
import { type AuditEntry, chainHash, type Store } from '../../store/index.ts';
import { GENESIS_HASH } from '../../store/migrations/2026_11_23_000002_audit.ts';

export interface ChainProblem {
  /** The first entry that fails, or the head position for a cut tail. */
  seq: number;
  reason: string;
}

export interface ChainReport {
  entries: number;
  head: { seq: number; hash: string };
  problem: ChainProblem | undefined;
}

const PAGE = 1000;

function check(entry: AuditEntry, expectedSeq: number, prevHash: string): string | undefined {
  if (entry.seq !== expectedSeq) {
    return `expected entry ${expectedSeq} here, found ${entry.seq}: entries were removed or renumbered`;
  }
  if (entry.prevHash !== prevHash) {
    return 'its prev_hash is not the hash of the entry before it: an entry before it was removed or replaced';
  }
  if (chainHash(prevHash, entry) !== entry.hash) {
    return 'its content does not match its hash: the entry was changed after it was written';
  }
  return undefined;
}

export async function verifyAuditChain(
  store: Store,
  onProgress?: (checked: number) => void,
): Promise<ChainReport> {
  const head = await store.audit.head();
  let prevHash = GENESIS_HASH;
  let seq = 0;
  for (;;) {
    const page = await store.audit.scan(seq, PAGE);
    for (const entry of page) {
      const reason = check(entry, seq + 1, prevHash);
      if (reason !== undefined) return { entries: seq, head, problem: { seq: entry.seq, reason } };
      seq = entry.seq;
      prevHash = entry.hash;
    }
    onProgress?.(seq);
    if (page.length < PAGE) break;
  }
  if (head.seq !== seq || head.hash !== prevHash) {
    const reason =
      head.seq > seq
        ? `the chain ends at entry ${seq} but its head says ${head.seq}: entries at the end were removed`
        : `the head row (entry ${head.seq}) does not match the last entry (${seq})`;
    return { entries: seq, head, problem: { seq: seq + 1, reason } };
  }
  return { entries: seq, head, problem: undefined };
}
