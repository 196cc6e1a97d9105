// Domain errors by code. A rule throws the code that says what went wrong; the catalogue holds what
// each code answers, and the server reads it there (problem details for the API, RFC 6749 §5.2
// bodies for the OAuth endpoints), so no rule chooses an HTTP status.
import { ERRORS, type ErrorCode } from './catalogue.ts';

export { ERRORS, type ErrorCode, type ErrorSpec, errorSpec } from './catalogue.ts';
export { isBackendUnavailable } from './unavailable.ts';

export interface FieldError {
  field: string;
  message: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function statusTitle(status: number): string {
  return TITLES[status] ?? 'Error';
}

/** An error whose message is safe to show to the client; its status comes from the catalogue. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly extra: Record<string, unknown>;

  constructor(code: ErrorCode, detail: string, extra: Record<string, unknown> = {}) {
    super(detail);
    this.name = 'AppError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.extra = extra;
  }
}

/** Whether `error` is an AppError, and of `code` when one is given (checked by the compiler). */
export function isAppError(error: unknown, code?: ErrorCode): error is AppError {
  return error instanceof AppError && (code === undefined || error.code === code);
}

/** 401: no usable credentials. `tokenSent` selects `error="invalid_token"` in WWW-Authenticate. */
export class AuthenticationError extends AppError {
  readonly tokenSent: boolean;

  constructor(detail: string, tokenSent: boolean) {
    super(tokenSent ? 'invalid_token' : 'unauthenticated', detail);
    this.name = 'AuthenticationError';
    this.tokenSent = tokenSent;
  }
}

/** 403: authenticated but not allowed; `scope` names the missing scope, if any. */
export class PermissionError extends AppError {
  readonly scope: string | undefined;

  constructor(detail: string, scope?: string) {
    super(scope ? 'insufficient_scope' : 'forbidden', detail);
    this.name = 'PermissionError';
    this.scope = scope;
  }
}

/** 422 validation_failed, naming each field that is wrong. */
export class ValidationError extends AppError {
  constructor(detail: string, errors: FieldError[]) {
    super('validation_failed', detail, { errors });
    this.name = 'ValidationError';
  }
}

export const notFound = (what: string): AppError => new AppError('not_found', `${what} not found.`);
