// PostgreSQL text cannot hold U+0000: a query parameter with one fails (22021) instead of matching
// nothing. No stored key contains one (identities refuse control characters, ids are UUIDs), so a
// lookup by such a value is answered "not found" without asking the database.

export function hasNul(...values: ReadonlyArray<string | undefined>): boolean {
  return values.some((v) => v?.includes('\u0000') === true);
}
