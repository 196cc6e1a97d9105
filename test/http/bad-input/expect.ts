// What a refused request must look like: the status the SPEC fixes, and the body of its family
// (RFC 9457 problem details for the API, RFC 6749 §5.2 errors for /token, /revoke, /introspect).
import assert from 'node:assert/strict';
import type { Answer } from '../../support/http.ts';

export type Family = 'problem' | 'oauth';

export type Expect =
  | {
      /** Allowed statuses; '4xx' is any client error. */
      status: readonly number[] | '4xx';
      /** The problem `code` or the OAuth `error`. */
      code?: string;
      /** A field the 422 `errors` list must name. */
      field?: string;
      /** A WWW-Authenticate: Bearer challenge is required. */
      challenge?: boolean;
    }
  /** The SPEC leaves the status open (e.g. RFC 7009's 200 for unknown tokens): never a 5xx. */
  | { tolerant: true };

const PROBLEM = /^application\/problem\+json\b/;
const JSON_TYPE = /^application\/json\b/;
const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_token',
  'insufficient_scope',
  'unsupported_token_type',
]);
// Stack frames, source paths or library internals in an answer would leak the implementation.
const LEAK = /node_modules|\/work\/|\.ts:\d+|\bat [\w.<>]+ \(/;

export const unparsable = (f: Family): Expect =>
  f === 'oauth'
    ? { status: [400], code: 'invalid_request' }
    : { status: [400], code: 'invalid_json' };
export const invalid = (f: Family, field?: string): Expect =>
  f === 'oauth'
    ? { status: [400], code: 'invalid_request' }
    : { status: [422], code: 'validation_failed', field };
/** Well-formed but unacceptable as a whole (a deep document, a poisoned key): 400 or 422. */
export const refused = (f: Family): Expect =>
  f === 'oauth' ? { status: [400], code: 'invalid_request' } : { status: [400, 422] };
export const tooLarge = (f: Family): Expect =>
  f === 'oauth'
    ? { status: [413], code: 'invalid_request' }
    : { status: [413], code: 'body_too_large' };
export const badMediaType = (f: Family): Expect =>
  f === 'oauth'
    ? { status: [400], code: 'invalid_request' }
    : { status: [415], code: 'unsupported_media_type' };
export const anyClientError: Expect = { status: '4xx' };
export const tolerant: Expect = { tolerant: true };

export function assertAnswer(answer: Answer, family: Family, expect: Expect): void {
  const where = `${answer.status} ${answer.headers.get('content-type')} ${answer.text.slice(0, 300)}`;
  assert.ok(answer.status < 500, `never a 5xx: got ${where}`);
  assert.doesNotMatch(answer.text, LEAK, `no internals in the answer: ${where}`);
  if ('tolerant' in expect) {
    if (answer.status >= 400) assertShape(answer, family, where);
    return;
  }
  const ok =
    expect.status === '4xx'
      ? answer.status >= 400 && answer.status < 500
      : expect.status.includes(answer.status);
  assert.ok(ok, `status ${JSON.stringify(expect.status)} expected, got ${where}`);
  assertShape(answer, family, where);
  const body = answer.body as Record<string, unknown>;
  if (expect.code !== undefined) {
    assert.equal(family === 'oauth' ? body.error : body.code, expect.code, `error code: ${where}`);
  }
  if (expect.challenge) {
    assert.match(
      answer.headers.get('www-authenticate') ?? '',
      /^Bearer\b/,
      `WWW-Authenticate: ${where}`,
    );
  }
  if (family === 'problem' && answer.status === 422) assertFieldErrors(body, expect.field, where);
}

function assertShape(answer: Answer, family: Family, where: string): void {
  const type = answer.headers.get('content-type') ?? '';
  const body = answer.body as unknown;
  assert.ok(
    body !== null && typeof body === 'object' && !Array.isArray(body),
    `a JSON object body: ${where}`,
  );
  const b = body as Record<string, unknown>;
  if (family === 'oauth') {
    // RFC 6749 §5.2 bodies, never problem+json.
    assert.match(type, JSON_TYPE, `application/json: ${where}`);
    assert.ok(
      typeof b.error === 'string' && OAUTH_ERRORS.has(b.error),
      `an RFC 6749 error: ${where}`,
    );
    assert.equal(typeof b.error_description, 'string', `error_description: ${where}`);
    return;
  }
  assert.match(type, PROBLEM, `application/problem+json: ${where}`);
  for (const key of ['type', 'title', 'detail', 'code']) {
    assert.equal(typeof b[key], 'string', `problem member ${key}: ${where}`);
  }
  assert.equal(b.status, answer.status, `problem status equals the HTTP status: ${where}`);
}

function assertFieldErrors(
  body: Record<string, unknown>,
  field: string | undefined,
  where: string,
): void {
  const errors = body.errors;
  assert.ok(Array.isArray(errors) && errors.length > 0, `422 lists the failing fields: ${where}`);
  for (const e of errors as unknown[]) {
    const item = e as Record<string, unknown>;
    assert.ok(
      typeof item.field === 'string' && typeof item.message === 'string',
      `{field, message}: ${where}`,
    );
  }
  if (field === undefined) return;
  const named = (errors as Array<{ field: string }>).some(
    (e) => e.field === field || e.field.startsWith(`${field}.`),
  );
  assert.ok(named, `errors name the field ${field}: ${where}`);
}
