// Cursor pagination of the admin lists: the `limit` and `cursor` query parameters, the
// {items, next_cursor} answer, and cursors that are opaque to clients but checked on the way back.
import { ValidationError } from '../errors/index.ts';
import { ref, str } from './schemas.ts';

/** Query parameters of every paged list. */
export const pageQuery = {
  limit: {
    type: 'string',
    pattern: '^(?:[1-9]\\d?|1\\d\\d|200)$',
    description: '1–200, default 50',
  },
  cursor: str(512),
} as const;

/** The 200 answer of a paged list of `itemRef`. */
export function pageSchema(itemRef: string) {
  return {
    type: 'object',
    required: ['items', 'next_cursor'],
    properties: {
      items: { type: 'array', items: ref(itemRef) },
      next_cursor: { type: ['string', 'null'] },
    },
  } as const;
}

export const pageLimit = (limit: string | undefined): number => Number(limit ?? 50);

/**
 * A cursor that carries one key of the last row (its text must match `shape`); anything else sent
 * back is a 422, never a query with a value the client made up.
 */
export function cursorOf(shape: RegExp): {
  encode(key: string): string;
  decode(cursor: string | undefined): string | undefined;
} {
  return {
    encode: (key) => Buffer.from(key, 'utf8').toString('base64url'),
    decode(cursor) {
      if (!cursor) return undefined;
      const key = Buffer.from(cursor, 'base64url').toString('utf8');
      if (!shape.test(key)) {
        throw new ValidationError('The cursor is invalid.', [
          { field: 'cursor', message: 'not a cursor from this API' },
        ]);
      }
      return key;
    },
  };
}

/**
 * The answer for `rows` read with `limit + 1`: one extra row tells whether another page exists,
 * and the last row shown gives the next cursor.
 */
export function page<T, V>(
  rows: readonly T[],
  limit: number,
  view: (row: T) => V,
  nextCursor: (last: T) => string,
): { items: V[]; next_cursor: string | null } {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return {
    items: shown.map(view),
    next_cursor: rows.length > limit && last !== undefined ? nextCursor(last) : null,
  };
}
