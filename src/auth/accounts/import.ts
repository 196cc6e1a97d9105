// Imports users exported by another system with their password hashes kept as they are: bcrypt,
// argon2, scrypt and PBKDF2 verify (crypto/passwords.ts) and become argon2id on the first login.
// Rows go in by batches, each in one transaction with its audit entry; a row that cannot be imported
// is reported with its place and reason and the rest go on.
import { hashFormat } from '../../crypto/passwords.ts';
import { uuidv7 } from '../../crypto/random.ts';
import type { NewUser } from '../../store/index.ts';
import { recordAudit } from '../audit/index.ts';
import { parseEmail, parseUsername } from '../identity/index.ts';
import type { Uses } from '../services.ts';

export interface ImportRecord {
  /** Where the row is in the file ("line 7"), for the report. */
  where: string;
  fields: Record<string, unknown>;
}

export interface Rejection {
  where: string;
  reason: string;
}

export interface ImportOptions {
  /** Named in the audit entries (a file name, not its contents). */
  source: string;
  batchSize?: number;
  onProgress?(done: number, total: number, imported: number): void;
  onReject?(rejection: Rejection): void;
}

export interface ImportReport {
  total: number;
  imported: number;
  rejected: Rejection[];
}

// Column names of the exports the FastAPI guides produce (hashed_password, disabled), of
// fastapi-users (hashed_password, is_active, is_superuser, is_verified) and our own names.
const HASH_COLUMNS = ['password_hash', 'hashed_password', 'password'];
const TRUE = new Set(['true', 't', '1', 'yes', 'y']);
const FALSE = new Set(['false', 'f', '0', 'no', 'n']);

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function flag(fields: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const raw = fields[name];
  if (typeof raw === 'boolean') return raw;
  const value = text(raw)?.trim().toLowerCase();
  if (value === undefined || value === '') return fallback;
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new Error(`${name} must be true or false, got ${JSON.stringify(value.slice(0, 20))}`);
}

/** The username to use: the given one, or the email's local part when the export has none. */
function usernameOf(fields: Record<string, unknown>, email: string): string {
  const given = text(fields.username);
  if (given !== undefined) return given;
  // fastapi-users has no usernames: derive one that the user can change later.
  return (email.split('@')[0] ?? '').replace(/[^\p{L}\p{N}._-]/gu, '_').slice(0, 32);
}

function toUser(
  s: Uses<never, 'defaultScopes'>,
  record: ImportRecord,
  now: number,
): NewUser | string {
  const f = record.fields;
  if (typeof f.__cells === 'number')
    return `has ${f.__cells} cells where the header has a different number`;
  const emailText = text(f.email);
  if (emailText === undefined) return 'no email';
  const email = parseEmail(emailText);
  if (!email.ok) return `invalid email: ${email.reason}`;
  const username = parseUsername(usernameOf(f, email.value));
  if (!username.ok) return `invalid username: ${username.reason}`;
  const column = HASH_COLUMNS.find((c) => text(f[c]) !== undefined);
  const hash = column === undefined ? undefined : text(f[column]);
  if (hash === undefined) return `no password hash (columns ${HASH_COLUMNS.join(', ')})`;
  // Plain text in a password column is refused here too: it matches no hash format.
  if (hashFormat(hash) === undefined) return 'unknown password hash format';
  let isActive: boolean;
  let isSuperuser: boolean;
  let isVerified: boolean;
  try {
    // The FastAPI tutorial's User has `disabled`; everything else says is_active.
    isActive = 'disabled' in f ? !flag(f, 'disabled', false) : flag(f, 'is_active', true);
    isSuperuser = flag(f, 'is_superuser', false);
    isVerified = flag(f, 'is_verified', false);
  } catch (error) {
    return (error as Error).message;
  }
  return {
    id: uuidv7(now),
    email: email.value,
    emailNorm: email.normalized,
    username: username.value,
    usernameNorm: username.normalized,
    passwordHash: hash,
    isActive,
    isSuperuser,
    isVerified,
    scopes: [...s.config.defaultScopes],
    createdAt: now,
  };
}

export async function importUsers(
  s: Uses<'clock' | 'store', 'defaultScopes'>,
  records: readonly ImportRecord[],
  options: ImportOptions,
): Promise<ImportReport> {
  const batchSize = options.batchSize ?? 1000;
  const rejected: Rejection[] = [];
  const reject = (where: string, reason: string): void => {
    const r = { where, reason };
    rejected.push(r);
    options.onReject?.(r);
  };
  const seenEmail = new Map<string, string>();
  const seenName = new Map<string, string>();
  let imported = 0;
  for (let start = 0; start < records.length; start += batchSize) {
    const now = s.clock();
    const batch: Array<{ where: string; user: NewUser }> = [];
    for (const record of records.slice(start, start + batchSize)) {
      const user = toUser(s, record, now);
      if (typeof user === 'string') {
        reject(record.where, user);
        continue;
      }
      const twin = seenEmail.get(user.emailNorm) ?? seenName.get(user.usernameNorm);
      if (twin !== undefined) {
        const what = seenEmail.has(user.emailNorm) ? 'email' : 'username';
        reject(record.where, `duplicate ${what} (first at ${twin})`);
        continue;
      }
      seenEmail.set(user.emailNorm, record.where);
      seenName.set(user.usernameNorm, record.where);
      batch.push({ where: record.where, user });
    }
    const inserted = await s.store.transaction(async (tx) => {
      const ids = new Set<string>();
      // 200 rows per statement stays far below both databases' bound-parameter limits.
      for (let i = 0; i < batch.length; i += 200) {
        const chunk = batch.slice(i, i + 200).map((b) => b.user);
        for (const id of await tx.users.insertMany(chunk)) ids.add(id);
      }
      if (ids.size > 0) {
        await recordAudit(tx, {
          type: 'user.import',
          actorId: null,
          at: now,
          details: {
            source: options.source,
            count: ids.size,
            first: batch[0]?.where,
            last: batch.at(-1)?.where,
          },
        });
      }
      return ids;
    });
    for (const b of batch) {
      if (!inserted.has(b.user.id))
        reject(b.where, 'a user with this email or username already exists');
    }
    imported += inserted.size;
    options.onProgress?.(Math.min(start + batchSize, records.length), records.length, imported);
  }
  return { total: records.length, imported, rejected };
}
