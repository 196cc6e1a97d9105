// The one mapping from errors to HTTP answers: RFC 9457 problem details for the API, RFC 6749 §5.2
// bodies for the OAuth endpoints. The public message is kept apart from the cause, which is logged.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  AppError,
  AuthenticationError,
  type FieldError,
  OAuthError,
  PermissionError,
  statusTitle,
} from '../errors/index.ts';

const FRAMEWORK_CODES: Record<string, [number, string, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json', 'The request body is not valid JSON.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json', 'The request body is empty.'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large', 'The request body is too large.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    415,
    'unsupported_media_type',
    'This content type is not accepted here.',
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad_request', 'The Content-Length header is wrong.'],
  FST_ERR_CTP_INVALID_TYPE: [400, 'bad_request', 'The Content-Type header is malformed.'],
  // PostgreSQL refusing a character (U+0000) in a parameter: the input's fault, never a 5xx.
  '22021': [400, 'invalid_characters', 'The request contains a character that cannot be stored.'],
  '22P05': [400, 'invalid_characters', 'The request contains a character that cannot be stored.'],
};

/** Reduce any thrown value to an AppError whose message is safe to send. */
export function toAppError(error: unknown, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  const fe = error as FastifyError;
  if (fe.validation) {
    const errors: FieldError[] = fe.validation.map((v) => ({
      field: fieldName(v.instancePath, v.params as Record<string, unknown>, fe.validationContext),
      message: v.message ?? 'is invalid',
    }));
    return new AppError(422, 'validation_failed', 'The request failed validation.', { errors });
  }
  const known = fe.code ? FRAMEWORK_CODES[fe.code] : undefined;
  if (known) return new AppError(known[0], known[1], known[2]);
  if (
    error instanceof SyntaxError ||
    (error instanceof RangeError && /call stack/i.test(error.message))
  ) {
    return new AppError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError(fe.statusCode, 'bad_request', statusTitle(fe.statusCode));
  }
  request.log.error({ err: error }, 'unhandled error');
  return new AppError(500, 'internal_error', 'Something went wrong on our side.');
}

function fieldName(path: string, params: Record<string, unknown>, context?: string): string {
  const base = path.replace(/^\//, '').replaceAll('/', '.');
  const missing = typeof params.missingProperty === 'string' ? params.missingProperty : undefined;
  const name = [base, missing].filter(Boolean).join('.');
  return name || context || 'body';
}

const REALM = 'Bearer realm="portcullis"';

function challenge(error: AppError): string | undefined {
  if (error instanceof AuthenticationError) {
    return error.tokenSent
      ? `${REALM}, error="invalid_token", error_description="${error.message.replaceAll('"', "'")}"`
      : REALM;
  }
  if (error instanceof PermissionError && error.scope) {
    return `${REALM}, error="insufficient_scope", scope="${error.scope}"`;
  }
  return undefined;
}

function common(reply: FastifyReply, error: AppError): void {
  const header = challenge(error);
  if (header) reply.header('www-authenticate', header);
  const retry = error.extra.retryAfter;
  if (typeof retry === 'number') reply.header('retry-after', String(retry));
}

export function sendProblem(reply: FastifyReply, error: AppError): FastifyReply {
  common(reply, error);
  const { retryAfter: _hidden, ...extra } = error.extra;
  return reply
    .code(error.status)
    .type('application/problem+json')
    .send({
      type: `urn:portcullis:error:${error.code}`,
      title: statusTitle(error.status),
      status: error.status,
      detail: error.message,
      code: error.code,
      ...extra,
    });
}

// RFC 6749 §5.2 names the codes the OAuth endpoints may answer with.
const OAUTH_CODES = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_token',
  'insufficient_scope',
  'unsupported_token_type',
  'mfa_required',
  'second_factor_unavailable',
  'email_not_verified',
  'slow_down',
  // 429 and 503 of the lockout and the rate limit keep their status and Retry-After on /token.
  'too_many_attempts',
  'rate_limited',
  'temporarily_unavailable',
]);

// RFC 6749 §5.2: error_description is printable ASCII without '"' and '\'.
function oauthText(message: string): string {
  return message.replaceAll('’', "'").replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?');
}

function asOAuthError(error: AppError | OAuthError): OAuthError {
  if (error instanceof OAuthError) return error;
  if (error instanceof AuthenticationError) {
    return new OAuthError(error.tokenSent ? 'invalid_token' : 'invalid_client', error.message, 401);
  }
  if (error instanceof PermissionError)
    return new OAuthError('insufficient_scope', error.message, 403);
  if (OAUTH_CODES.has(error.code))
    return new OAuthError(error.code, error.message, error.status, error.extra);
  if (error.status >= 500) return new OAuthError('server_error', error.message, 500);
  // Malformed input of any kind is RFC 6749's invalid_request, a 400 (too large stays 413).
  return new OAuthError(
    'invalid_request',
    error.message,
    error.status === 413 ? 413 : 400,
    error.extra,
  );
}

export function sendOAuthError(reply: FastifyReply, error: AppError | OAuthError): FastifyReply {
  const oauth = asOAuthError(error);
  if (error instanceof AppError) common(reply, error);
  const { retryAfter: _hidden, errors: _fields, ...extra } = oauth.extra;
  return reply
    .code(oauth.status)
    .type('application/json')
    .header('cache-control', 'no-store')
    .send({ error: oauth.error, error_description: oauthText(oauth.message), ...extra });
}
