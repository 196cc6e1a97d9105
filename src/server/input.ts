// Input rules that hold for every route, before schema validation.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError } from '../errors/index.ts';

/** The first string (key or value) holding a NUL character, as a dotted path; iterative, so deep
 *  documents cannot exhaust the stack. */
export function findNul(value: unknown, root: string): string | undefined {
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length > 0) {
    const [item, path] = stack.pop() as [unknown, string];
    if (typeof item === 'string') {
      if (item.includes('\u0000')) return path;
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (key.includes('\u0000')) return path;
        stack.push([child, `${path}.${key}`]);
      }
    }
  }
  return undefined;
}

// NUL is no printable character in any field we take, PostgreSQL cannot store it in text, and C
// libraries truncate at it: refuse it everywhere, the same way on every database.
export async function rejectNulCharacters(
  request: FastifyRequest,
  _reply: FastifyReply,
): Promise<void> {
  for (const [part, value] of [
    ['params', request.params],
    ['query', request.query],
    ['body', request.body],
  ] as const) {
    const path = findNul(value, part);
    if (path !== undefined) {
      throw new ValidationError('The request contains a NUL character.', [
        {
          field: path.split('.').slice(1).join('.') || part,
          message: 'must not contain NUL characters',
        },
      ]);
    }
  }
}
