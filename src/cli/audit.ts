// `portcullis audit verify`: walks the audit hash chain; exits 1 naming the first entry that fails.
import { verifyAuditChain } from '../auth/audit/index.ts';
import { loadConfig } from '../config/index.ts';
import { openDatabase } from '../store/database.ts';
import { createStore } from '../store/index.ts';
import { migrateToLatest } from '../store/migrate.ts';

export async function audit(args: string[]): Promise<number> {
  const [action] = args;
  if (action !== 'verify') {
    console.error('usage: portcullis audit verify');
    return 2;
  }
  const config = loadConfig();
  const database = await openDatabase(config.databaseUrl);
  const store = createStore(database);
  try {
    await migrateToLatest(database);
    const progress = process.stderr.isTTY
      ? (n: number) => process.stderr.write(`\rchecked ${n} entries`)
      : undefined;
    const report = await verifyAuditChain(store, progress);
    if (progress) process.stderr.write('\n');
    if (report.problem) {
      console.error(
        `audit verify: entry ${report.problem.seq} fails: ${report.problem.reason}. ` +
          `Entries 1–${report.entries} are intact.`,
      );
      return 1;
    }
    console.log(
      `Audit log intact: ${report.entries} entries; head hash ${report.head.hash}` +
        ' (keep it elsewhere to detect a rewrite of the whole chain).',
    );
    return 0;
  } finally {
    await store.close();
  }
}
