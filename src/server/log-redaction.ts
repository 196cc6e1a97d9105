// What the request log may print of a URL: secrets in the query (an old `?token=` link, an OAuth
// callback's `code`, a client that puts a credential in a URL) are replaced, the rest kept.
import type { FastifyRequest } from 'fastify';

export const REDACTED = '[REDACTED]';

// Names compared lower-case, after percent-decoding; any `…_token`, `…_secret`, `…_password` too.
const SECRET_NAMES = new Set([
  'token',
  'code',
  'otp',
  'password',
  'secret',
  'key',
  'api_key',
  'apikey',
  'code_verifier',
  'client_assertion',
  'assertion',
  'signature',
  'sig',
]);
const SECRET_SUFFIX = /[_-](token|secret|password)$/;

function isSecretName(raw: string): boolean {
  let name = raw.replace(/\+/g, ' ');
  try {
    name = decodeURIComponent(name);
  } catch {
    // A malformed escape: judge the name as written.
  }
  name = name.trim().toLowerCase();
  return SECRET_NAMES.has(name) || SECRET_SUFFIX.test(name);
}

/** The URL (path and query, as in the request line) with the values of secret parameters replaced. */
export function redactUrl(url: string): string {
  // A fragment is never sent by browsers; one that arrives anyway is dropped whole.
  const hash = url.indexOf('#');
  const base = hash === -1 ? url : url.slice(0, hash);
  const suffix = hash === -1 ? '' : `#${REDACTED}`;
  const q = base.indexOf('?');
  if (q === -1) return base + suffix;
  const query = base
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return isSecretName(name) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
  return `${base.slice(0, q + 1)}${query}${suffix}`;
}

/** Fastify's default `req` serializer (method, url, version, host, remote address and port), with
 * the URL redacted. */
export function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactUrl(request.url),
    version: request.headers?.['accept-version'],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
