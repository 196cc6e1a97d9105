// Whether an error means "a backend we depend on is not answering" (the database or Redis down,
// restarting or unreachable) rather than a bug: such a request is answered 503 with Retry-After,
// for the client to try again, instead of a 500 that pages someone for a defect. Recognised by the
// codes and messages of the drivers (`pg`, `ioredis`, `node:sqlite`), without importing them.

/** Socket errors of a connection that could not be made or was cut. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** PostgreSQL SQLSTATEs: connection exceptions (class 08) and the server shutting down or starting. */
const PG_STATES = /^(08...|57P01|57P02|57P03|53300)$/;

const MESSAGES = [
  // pg: the server closed the connection, or the pool's connectionTimeoutMillis ran out.
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /^Client has encountered a connection error and is not queryable/,
  // ioredis: its offline queue gave up, or the connection is gone.
  /^Reached the max retries per request limit/,
  /^Stream isn't writeable/,
  /^Connection is closed\.?$/,
  /^Command timed out$/,
  // node:sqlite: another process held the write lock past busy_timeout.
  /^database is locked$/,
];

export function isBackendUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code } = error as { code?: unknown };
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || PG_STATES.test(code))) return true;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  if (MESSAGES.some((pattern) => pattern.test(error.message))) return true;
  // Kysely and others wrap: look one level down (AggregateError of several addresses included).
  const { cause } = error as { cause?: unknown };
  if (cause !== undefined && cause !== error && isBackendUnavailable(cause)) return true;
  return error instanceof AggregateError && error.errors.some((e) => isBackendUnavailable(e));
}
