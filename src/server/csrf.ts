// CSRF defence for the cookie mode: a signed double-submit token bound to the session (OWASP CSRF
// cheat sheet), checked together with Origin and Sec-Fetch-Site on every state-changing request.
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/index.ts';
import { constantTimeEqual, hmacSha256, randomToken } from '../crypto/random.ts';
import type { SecretRing } from '../crypto/secret-ring.ts';
import { AppError } from '../errors/index.ts';
import { COOKIE, cookieOf } from './cookies.ts';

export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;

export interface CsrfTokens {
  /** A new token for a session: a random nonce and its HMAC with the session id. */
  mint(sessionId: string): string;
  /** The current token when it is valid for this session (stable across refreshes), else a new one. */
  renew(sessionId: string, current: string | undefined): string;
  isValid(token: string, sessionId: string): boolean;
}

export function createCsrfTokens(secrets: SecretRing): CsrfTokens {
  // The current secret mints; a previous one (PREVIOUS_SECRET_KEYS) still checks what it minted.
  const keys = secrets.keys('csrf-token');
  const mac = (key: Uint8Array, sessionId: string, nonce: string): string =>
    hmacSha256(key, `${sessionId}.${nonce}`);
  /** Which secret minted the token for this session (0: the current one), or -1 if none did. */
  function mintedBy(token: string, sessionId: string): number {
    if (!TOKEN_SHAPE.test(token)) return -1;
    const [nonce = '', given = ''] = token.split('.');
    // Bound to the session by the HMAC: a token of another session, or one an attacker planted in a
    // cookie, fails here even when header and cookie agree (naive double submit would accept it).
    return keys.findIndex((key) => constantTimeEqual(given, mac(key, sessionId, nonce)));
  }
  function mint(sessionId: string): string {
    const nonce = randomToken(16);
    return `${nonce}.${mac(keys[0] as Uint8Array, sessionId, nonce)}`;
  }
  return {
    mint,
    // Kept while the current secret made it; one of a previous secret is replaced on renewal.
    renew: (sessionId, current) =>
      current !== undefined && mintedBy(current, sessionId) === 0 ? current : mint(sessionId),
    isValid: (token, sessionId) => mintedBy(token, sessionId) >= 0,
  };
}

export const csrfFailed = (detail: string): AppError => new AppError('csrf_failed', detail);

export function isStateChanging(request: FastifyRequest): boolean {
  return !SAFE_METHODS.has(request.method);
}

function allowedOrigins(request: FastifyRequest, config: Config): string[] {
  const own = `${request.protocol}://${request.host}`;
  return [own, new URL(config.publicUrl).origin, ...config.corsOrigins];
}

/** Refuses requests a browser marks as cross-site or sends from a foreign origin (login CSRF too). */
export function requireSameOrigin(request: FastifyRequest, config: Config): void {
  // Fetch Metadata: a browser says outright when another site started the request.
  if (request.headers['sec-fetch-site'] === 'cross-site') {
    throw csrfFailed('Cross-site requests cannot use the session cookies.');
  }
  const origin = request.headers.origin;
  // Under `Referrer-Policy: no-referrer` some browsers send `Origin: null` even from our own pages;
  // that is believed only when Fetch Metadata says same-origin. Any other `null` (sandboxed frames,
  // some redirects) is never ours.
  const privateSameOrigin =
    origin === 'null' && request.headers['sec-fetch-site'] === 'same-origin';
  // Browsers send Origin on every cross-origin and every POST request.
  if (
    origin !== undefined &&
    !privateSameOrigin &&
    !allowedOrigins(request, config).includes(origin)
  ) {
    throw csrfFailed(
      `Requests from origin ${origin.slice(0, 100)} cannot use the session cookies.`,
    );
  }
}

/** The double-submit check: X-CSRF-Token equals the CSRF cookie and belongs to this session. */
export function requireCsrfToken(
  request: FastifyRequest,
  config: Config,
  tokens: CsrfTokens,
  sessionId: string,
): void {
  requireSameOrigin(request, config);
  const header = request.headers[CSRF_HEADER];
  if (typeof header !== 'string' || header === '') {
    throw csrfFailed('This request needs the X-CSRF-Token header (the value of the CSRF cookie).');
  }
  const cookie = cookieOf(request, COOKIE.csrf);
  if (cookie === undefined || !constantTimeEqual(header, cookie)) {
    throw csrfFailed('The X-CSRF-Token header does not match the CSRF cookie.');
  }
  if (!tokens.isValid(header, sessionId)) {
    throw csrfFailed('The CSRF token does not belong to this session.');
  }
}
