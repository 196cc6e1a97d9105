// The revocation entries instances publish to each other (and to guards): their shape and a parser
// that trusts nothing. Imports nothing, so the guard can use it too.

export interface RevocationEntry {
  id: string;
  /** 'session': the token's sid is dead; 'user': tokens of the user issued before `at` are. */
  kind: 'session' | 'user';
  subject: string;
  /** ms since the epoch. */
  at: number;
  /** ms: after this no token the entry affects can still be live. */
  expiresAt: number;
}

const MAX_MESSAGE_ENTRIES = 10_000;

/** Entries from a published message; anything malformed is dropped (never trusted to throw). */
export function parseRevocationMessage(message: string): RevocationEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed) || parsed.length > MAX_MESSAGE_ENTRIES) return [];
  const entries: RevocationEntry[] = [];
  for (const item of parsed as unknown[]) {
    const e = item as Partial<RevocationEntry> | null;
    if (
      e !== null &&
      typeof e === 'object' &&
      (e.kind === 'session' || e.kind === 'user') &&
      typeof e.id === 'string' &&
      typeof e.subject === 'string' &&
      e.subject.length > 0 &&
      e.subject.length <= 128 &&
      Number.isSafeInteger(e.at) &&
      Number.isSafeInteger(e.expiresAt)
    ) {
      entries.push({
        id: e.id,
        kind: e.kind,
        subject: e.subject,
        at: e.at as number,
        expiresAt: e.expiresAt as number,
      });
    }
  }
  return entries;
}
