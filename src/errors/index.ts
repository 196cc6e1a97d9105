// One catalogue of errors with stable codes. Routes throw these; the server maps them to HTTP once
// (problem details for the API, RFC 6749 §5.2 bodies for the OAuth endpoints).

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

/** An error whose message is safe to show to the client. */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly extra: Record<string, unknown>;

  constructor(status: number, code: string, detail: string, extra: Record<string, unknown> = {}) {
    super(detail);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

/** 401: no usable credentials. `tokenSent` selects `error="invalid_token"` in WWW-Authenticate. */
export class AuthenticationError extends AppError {
  readonly tokenSent: boolean;

  constructor(detail: string, tokenSent: boolean) {
    super(401, tokenSent ? 'invalid_token' : 'unauthenticated', detail);
    this.name = 'AuthenticationError';
    this.tokenSent = tokenSent;
  }
}

/** 403: authenticated but not allowed; `scope` names the missing scope, if any. */
export class PermissionError extends AppError {
  readonly scope: string | undefined;

  constructor(detail: string, scope?: string) {
    super(403, scope ? 'insufficient_scope' : 'forbidden', detail);
    this.name = 'PermissionError';
    this.scope = scope;
  }
}

export class ValidationError extends AppError {
  constructor(detail: string, errors: FieldError[], code = 'validation_failed') {
    super(422, code, detail, { errors });
    this.name = 'ValidationError';
  }
}

/** RFC 6749 §5.2 error of the OAuth endpoints. */
export class OAuthError extends Error {
  readonly status: number;
  readonly error: string;
  readonly extra: Record<string, unknown>;

  constructor(
    error: string,
    description: string,
    status = 400,
    extra: Record<string, unknown> = {},
  ) {
    super(description);
    this.name = 'OAuthError';
    this.error = error;
    this.status = status;
    this.extra = extra;
  }
}

export const notFound = (what: string): AppError =>
  new AppError(404, 'not_found', `${what} not found.`);
