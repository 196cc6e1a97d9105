// Single-use tokens mailed to a user: issued with a cooldown, stored as keyed hashes, bound to what
// they were issued for, and redeemed at most once.
import { constantTimeEqual, hmacSha256, randomToken, uuidv7 } from '../../crypto/random.ts';
import { AppError } from '../../errors/index.ts';
import type { AccountToken, AccountTokenPurpose, Store, User } from '../../store/index.ts';
import type { Uses } from '../services.ts';

export const ACCOUNT_TOKEN_TTL_MS: Readonly<Record<AccountTokenPurpose, number>> = {
  password_reset: 30 * 60_000,
  email_verification: 24 * 60 * 60_000,
};

/** At most one mail of each purpose per account per minute: a mail-bombing brake. */
export const MAIL_COOLDOWN_MS = 60_000;

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

// One generic answer for every way a token can fail, so that probing learns nothing.
export const badAccountToken = (): AppError =>
  new AppError('invalid_or_expired_token', 'This link is invalid, used or expired.');

// `secret` indexes s.secrets.all: 0 is SECRET_KEY, which makes every new row; a previous secret
// (PREVIOUS_SECRET_KEYS) only finds and checks the rows it made before a rotation.
function hashKey(s: Uses<'secrets'>, secret: number): Uint8Array {
  const key = s.secrets.keys('account-token-hash')[secret];
  if (key === undefined) throw new RangeError('account tokens: no such secret');
  return key;
}

/** The stored form of a token; the purpose is hashed in, so a token of one kind never fits another. */
export function accountTokenHash(
  s: Uses<'secrets'>,
  purpose: AccountTokenPurpose,
  token: string,
  secret = 0,
): string {
  return hmacSha256(hashKey(s, secret), `${purpose}:${token}`);
}

/** A keyed hash of what a token is bound to (an address, a password hash): no secret in the row. */
export function accountTokenBinding(
  s: Uses<'secrets'>,
  purpose: AccountTokenPurpose,
  value: string,
  secret = 0,
): string {
  return hmacSha256(hashKey(s, secret), `binding:${purpose}:${value}`);
}

export type Issued = { token: string } | { retryAfterMs: number };

/** A new token replacing every earlier one of the same purpose, unless one was issued under a minute ago. */
export async function issueAccountToken(
  s: Uses<'clock' | 'secrets' | 'store'>,
  user: User,
  purpose: AccountTokenPurpose,
  boundTo: string,
): Promise<Issued> {
  const now = s.clock();
  const token = randomToken(32);
  return s.store.transaction(async (tx) => {
    const last = await tx.accountTokens.lastIssuedAt(user.id, purpose);
    if (last !== undefined && now - last < MAIL_COOLDOWN_MS && now >= last) {
      return { retryAfterMs: last + MAIL_COOLDOWN_MS - now };
    }
    await tx.accountTokens.replace({
      hash: accountTokenHash(s, purpose, token),
      purpose,
      userId: user.id,
      binding: accountTokenBinding(s, purpose, boundTo),
      createdAt: now,
      expiresAt: now + ACCOUNT_TOKEN_TTL_MS[purpose],
    });
    return { token };
  });
}

/**
 * The work of `issueAccountToken` without its effect, for requests about unknown or disabled
 * accounts: the same random draw, hashes and read, so the server is as busy either way.
 */
export async function decoyAccountToken(
  s: Uses<'clock' | 'secrets' | 'store'>,
  purpose: AccountTokenPurpose,
): Promise<string> {
  const token = randomToken(32);
  accountTokenHash(s, purpose, token);
  accountTokenBinding(s, purpose, token);
  await s.store.transaction((tx) => tx.accountTokens.lastIssuedAt(uuidv7(s.clock()), purpose));
  return token;
}

export interface LiveToken {
  row: AccountToken;
  user: User;
}

/**
 * The unused, unexpired token and its active user, when what it is bound to has not changed since.
 * Reads only: redeem it with `redeemAccountToken` inside the transaction of the change it allows.
 */
export async function findLiveToken(
  s: Uses<'clock' | 'secrets' | 'store'>,
  purpose: AccountTokenPurpose,
  token: string,
  boundTo: (user: User) => string,
): Promise<LiveToken> {
  // Shape first: garbage never reaches the database.
  if (!TOKEN_SHAPE.test(token)) throw badAccountToken();
  const found = await findStored(s, purpose, token);
  const row = found?.row;
  const secret = found?.secret ?? 0;
  if (!row || row.purpose !== purpose || row.usedAt !== null || row.expiresAt <= s.clock()) {
    throw badAccountToken();
  }
  const user = await s.store.users.findById(row.userId);
  if (!user?.isActive) throw badAccountToken();
  // A changed address or password voids the token: it was proof about the old one.
  if (!constantTimeEqual(row.binding, accountTokenBinding(s, purpose, boundTo(user), secret))) {
    throw badAccountToken();
  }
  return { row, user };
}

/** The row of a token and the secret its hash is keyed with (mailed before a rotation: a previous one). */
async function findStored(
  s: Uses<'secrets' | 'store'>,
  purpose: AccountTokenPurpose,
  token: string,
): Promise<{ row: AccountToken; secret: number } | undefined> {
  for (let secret = 0; secret < s.secrets.all.length; secret++) {
    const row = await s.store.accountTokens.findByHash(accountTokenHash(s, purpose, token, secret));
    if (row) return { row, secret };
  }
  return undefined;
}

/** Spends the token inside `tx`; throws the generic error if another request spent it first. */
export async function redeemAccountToken(tx: Store, live: LiveToken, now: number): Promise<void> {
  if (!(await tx.accountTokens.consume(live.row.hash, live.row.purpose, now))) {
    throw badAccountToken();
  }
}
