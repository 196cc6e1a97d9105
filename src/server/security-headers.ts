// Security headers on every response and CORS for the configured origins only: the one place the
// policy lives. The pages (web/) and the Swagger UI at /docs load scripts and styles from files of
// this origin only, so the policy needs no 'unsafe-inline', no nonce and no CDN.
// Not @fastify/helmet: it rebuilds helmet's middleware on every request, where this map is computed
// once (bench/README.md has both costs), and four of its defaults would need overriding anyway.
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/index.ts';

// sha256 of the constant <style> element of @fastify/swagger-ui 6's swagger-ui-bundle.js.
const SWAGGER_UI_STYLE = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

/** The Content-Security-Policy directives, in the order they are sent. */
export function contentSecurityPolicy(production: boolean, publicUrl: string): string {
  const publicOrigin = new URL(publicUrl).origin;
  const directives: Array<[string, string]> = [
    ['default-src', "'self'"],
    // No inline script, no eval: an injected <script> or on* attribute cannot run.
    ['script-src', "'self'"],
    ['script-src-attr', "'none'"],
    // The hash admits one fixed <style> block that the Swagger UI bundle inserts; nothing else inline.
    ['style-src', `'self' ${SWAGGER_UI_STYLE}`],
    // Swagger UI's stylesheet draws its icons from data: URLs.
    ['img-src', "'self' data:"],
    ['font-src', "'self'"],
    // The Swagger UI posts to /token under PUBLIC_URL, which is this origin when set right.
    ['connect-src', `'self' ${publicOrigin}`],
    ['object-src', "'none'"],
    ['base-uri', "'none'"],
    ['form-action', "'self'"],
    // Framing is refused outright (clickjacking of the login and account pages).
    ['frame-ancestors', "'none'"],
  ];
  // Upgrading to https would break the plain-http development server on localhost.
  if (production) directives.push(['upgrade-insecure-requests', '']);
  return directives.map(([name, value]) => (value ? `${name} ${value}` : name)).join('; ');
}

/** Every header, computed once at start-up. */
export function securityHeaders(
  config: Pick<Config, 'nodeEnv' | 'publicUrl'>,
): Record<string, string> {
  const production = config.nodeEnv === 'production';
  const headers: Record<string, string> = {
    'content-security-policy': contentSecurityPolicy(production, config.publicUrl),
    'x-content-type-options': 'nosniff',
    // For browsers without frame-ancestors.
    'x-frame-options': 'DENY',
    // Reset and verification links carry their token in the URL: no Referer may ever repeat it.
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    'x-dns-prefetch-control': 'off',
    'x-permitted-cross-domain-policies': 'none',
    // The legacy XSS auditor did more harm than good; 0 switches it off where it still exists.
    'x-xss-protection': '0',
  };
  // HSTS only in production: sent from a development server it would pin localhost to https.
  if (production) headers['strict-transport-security'] = 'max-age=31536000; includeSubDomains';
  return headers;
}

// Headers a browser script of an allowed origin may read from a response.
// Exactly the headers the server sends that a browser app may need to read (rate-limit.ts names
// the RateLimit-* ones).
const EXPOSED = [
  'www-authenticate',
  'retry-after',
  'location',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'ratelimit-policy',
];
const ALLOWED_HEADERS = ['authorization', 'content-type', 'x-csrf-token'];

async function plugin(app: FastifyInstance, opts: { config: Config }): Promise<void> {
  const headers = securityHeaders(opts.config);
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(headers);
    reply.removeHeader('x-powered-by');
  });

  const allowed = new Set(opts.config.corsOrigins);
  await app.register(cors, {
    // Only the configured origins get Access-Control-Allow-Origin; any other gets no CORS header.
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    // Cookie mode: a page of an allowed origin may send the HttpOnly cookies.
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED,
    maxAge: 600,
    // A preflight of another origin is answered without any Access-Control-Allow-* header.
    strictPreflight: false,
  });
}

/** Registers the headers and CORS on the whole server (not encapsulated). */
export const securityPlugin = fp(plugin, { name: 'portcullis-security-headers' });
