// Request bodies: strict UTF-8 JSON everywhere, and form encoding only where OAuth needs it.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../errors/index.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

// Bytes that are not UTF-8 are not JSON text (RFC 8259 §8.1); decoding them leniently would store a
// password other than the one the client sent.
function decodeUtf8(body: Buffer, what: string, code: ErrorCode): string {
  try {
    return strictUtf8.decode(body);
  } catch {
    throw new AppError(code, `The ${what} is not valid UTF-8.`);
  }
}

/** JSON only, strictly decoded; no text/plain (a JSON API answers other types with 415). */
export function jsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = decodeUtf8(body as Buffer, 'request body', 'invalid_json');
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}

/** application/x-www-form-urlencoded for the OAuth endpoints (RFC 6749 appendix B). */
export function formBodies(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer' },
    (_request: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
      try {
        done(null, parseForm(decodeUtf8(body, 'form body', 'invalid_request')));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
}

export function parseForm(text: string): Record<string, string> {
  const fields: Record<string, string> = Object.create(null);
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeComponent(eq < 0 ? '' : pair.slice(eq + 1));
    // RFC 6749 §3.1: parameters must not be repeated; a second value is ambiguous, so refuse it.
    if (Object.hasOwn(fields, name)) {
      throw new AppError('invalid_request', 'A parameter is repeated.');
    }
    fields[name] = value;
  }
  return { ...fields };
}

function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    throw new AppError('invalid_request', 'The form body has a malformed percent-escape.');
  }
}
