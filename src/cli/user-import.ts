// `portcullis user import FILE`: users from a JSON or CSV export of another system, password hashes
// kept. Progress and rejected rows on standard error, the summary on standard output; exits 1 when
// any row was rejected (the others are imported).
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { importUsers } from '../auth/accounts/index.ts';
import { withServices } from './context.ts';
import { readImportFile } from './import-file.ts';

export async function userImport(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const file = positionals[0];
  if (!file || positionals.length > 1) {
    console.error(
      'usage: portcullis user import FILE   (JSON array or CSV with a header: email, username,\n' +
        '       password_hash or hashed_password, is_active or disabled, is_superuser, is_verified)',
    );
    return 2;
  }
  const records = await readImportFile(file);
  const started = performance.now();
  const tty = process.stderr.isTTY === true;
  let reported = 0;
  const report = await withServices((s) =>
    importUsers(s, records, {
      source: basename(file),
      onReject: (r) => {
        if (tty) process.stderr.write('\r\x1b[K');
        process.stderr.write(`${r.where}: rejected: ${r.reason}\n`);
      },
      onProgress: (done, total, imported) => {
        const line = `import: ${done}/${total} rows read, ${imported} imported`;
        // On a terminal one line updates in place; in a log, a line per tenth of the file.
        if (tty) process.stderr.write(`\r${line}`);
        else if (done === total || Math.floor((done * 10) / total) > reported) {
          reported = Math.floor((done * 10) / total);
          process.stderr.write(`${line}\n`);
        }
      },
    }),
  );
  if (tty) process.stderr.write('\n');
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `Imported ${report.imported} of ${report.total} users from ${basename(file)} in ${seconds} s` +
      (report.rejected.length > 0 ? `; ${report.rejected.length} rejected (see above).` : '.'),
  );
  return report.rejected.length > 0 ? 1 : 0;
}
