// Finding the stored row of a refresh token across a SECRET_KEY rotation: tokens issued before it
// are stored under a hash keyed from the previous secret. No re-hash is needed: a token is spent on
// its next use and its successor is stored under the current key.
import type { RefreshToken } from '../../store/index.ts';
import type { Uses } from '../services.ts';

export interface FoundRefreshToken {
  row: RefreshToken;
  /** The hash the row is stored under (for the conditional updates that follow). */
  hash: string;
}

/** The row of a well-formed refresh token, by the current key first; undefined if none has it. */
export async function findRefreshToken(
  s: Uses<'refreshTokens' | 'store'>,
  token: string,
): Promise<FoundRefreshToken | undefined> {
  if (!s.refreshTokens.looksValid(token)) return undefined;
  for (const hash of s.refreshTokens.hashes(token)) {
    const row = await s.store.refreshTokens.findByHash(hash);
    if (row) return { row, hash };
  }
  return undefined;
}
