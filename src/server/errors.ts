// The one place errors become HTTP answers: RFC 9457 problem details for the API, RFC 6749 §5.2
// bodies for the OAuth endpoints, each with the status and code the catalogue (src/errors/) gives.
// The public message is kept apart from the cause, which is logged.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  AppError,
  AuthenticationError,
  type ErrorCode,
  errorSpec,
  type FieldError,
  isBackendUnavailable,
  PermissionError,
  statusTitle,
} from '../errors/index.ts';

/** What a 503 for an unreachable database or Redis tells clients to wait before retrying. */
const UNAVAILABLE_RETRY_SECONDS = 5;

const FRAMEWORK_CODES: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ['invalid_json', 'The request body is not valid JSON.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid_json', 'The request body is empty.'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['body_too_large', 'The request body is too large.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    'unsupported_media_type',
    'This content type is not accepted here.',
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['bad_request', 'The Content-Length header is wrong.'],
  FST_ERR_CTP_INVALID_TYPE: ['bad_request', 'The Content-Type header is malformed.'],
  // PostgreSQL refusing a character (U+0000) in a parameter: the input's fault, never a 5xx.
  '22021': ['invalid_characters', 'The request contains a character that cannot be stored.'],
  '22P05': ['invalid_characters', 'The request contains a character that cannot be stored.'],
};

/** Another 4xx of Fastify's: its status is Fastify's choice, not one the catalogue can know. */
class FrameworkRefusal extends AppError {
  override readonly status: number;

  constructor(status: number) {
    super('bad_request', statusTitle(status));
    this.name = 'FrameworkRefusal';
    this.status = status;
  }
}

/** Reduce any thrown value to an AppError whose message is safe to send. */
export function toAppError(error: unknown, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  const fe = error as FastifyError;
  if (fe.validation) {
    const errors: FieldError[] = fe.validation.map((v) => ({
      field: fieldName(v.instancePath, v.params as Record<string, unknown>, fe.validationContext),
      message: v.message ?? 'is invalid',
    }));
    return new AppError('validation_failed', 'The request failed validation.', { errors });
  }
  const known = fe.code ? FRAMEWORK_CODES[fe.code] : undefined;
  if (known) return new AppError(known[0], known[1]);
  if (
    error instanceof SyntaxError ||
    (error instanceof RangeError && /call stack/i.test(error.message))
  ) {
    return new AppError('invalid_json', 'The request body is not valid JSON.');
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new FrameworkRefusal(fe.statusCode);
  }
  if (isBackendUnavailable(error)) {
    // An outage, not a bug: the client may retry, and nothing was acknowledged.
    request.log.warn({ err: error }, 'a backend is unavailable');
    return new AppError(
      'temporarily_unavailable',
      'The service is temporarily unavailable. Try again shortly.',
      { retryAfter: UNAVAILABLE_RETRY_SECONDS },
    );
  }
  request.log.error({ err: error }, 'unhandled error');
  return new AppError('internal_error', 'Something went wrong on our side.');
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
  const code = errorSpec(error.code).wire ?? error.code;
  return reply
    .code(error.status)
    .type('application/problem+json')
    .send({
      type: `urn:portcullis:error:${code}`,
      title: statusTitle(error.status),
      status: error.status,
      detail: error.message,
      code,
      ...extra,
    });
}

// RFC 6749 §5.2: error_description is printable ASCII without '"' and '\'.
function oauthText(message: string): string {
  return message.replaceAll('’', "'").replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?');
}

/** The OAuth endpoints' answer: `error` and status from the catalogue's OAuth column. */
export function sendOAuthError(reply: FastifyReply, error: AppError): FastifyReply {
  const spec = errorSpec(error.code);
  common(reply, error);
  const { retryAfter: _hidden, errors: _fields, ...extra } = error.extra;
  return reply
    .code(spec.oauthStatus ?? spec.status)
    .type('application/json')
    .header('cache-control', 'no-store')
    .send({ error: spec.oauth, error_description: oauthText(error.message), ...extra });
}
