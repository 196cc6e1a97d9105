// The guard for other services: a framework-agnostic function, an Express/Connect middleware and a
// Fastify plugin. Guard route by route, or every route except a list of public paths.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type GuardClaims, GuardError, requireScopes, type Verifier } from './verifier.ts';

export interface GuardOptions {
  verifier: Verifier;
  /**
   * Paths served without a token, as the guides' middleware: exact (`/health`), or a path and
   * everything below it (`/public/*`, or `/public*`: whole segments either way, never /publicadmin).
   * Matched on the full request path, wherever the guard is mounted (see isPublic).
   */
  publicPaths?: string[];
  /** Scopes every guarded request needs. */
  scopes?: string[];
}

/** The claims of the request's bearer token; throws GuardError (401/403). */
export async function authenticate(
  headers: IncomingHttpHeaders,
  verifier: Verifier,
  scopes: string[] = [],
): Promise<GuardClaims> {
  const match = /^Bearer +(\S+) *$/i.exec(headers.authorization ?? '');
  if (!match?.[1]) throw new GuardError(401, 'Authentication required.');
  const claims = await verifier.verify(match[1]);
  requireScopes(claims, ...scopes);
  return claims;
}

interface PublicPath {
  segments: string[];
  /** Also everything below `segments`. */
  below: boolean;
}

/** Parses a publicPaths list; throws TypeError for an entry that could be read two ways. */
function compilePublicPaths(publicPaths: readonly string[]): PublicPath[] {
  return publicPaths.map((entry) => {
    // A relative entry, a '*' inside it, a dot or empty segment or a query would never match what
    // it seems to say: refuse it at set-up rather than guard (or expose) something else.
    const below = entry.endsWith('*');
    const path = below ? entry.slice(0, -1).replace(/\/$/, '') : entry;
    const segments = path === '' ? [] : path.split('/').slice(1);
    const odd = segments.some(
      (s, i) => s === '.' || s === '..' || (s === '' && i < segments.length - 1),
    );
    if (!entry.startsWith('/') || /[*?#]/.test(path) || odd) {
      throw new TypeError(
        `publicPaths: "${entry}" must be a path like "/health", or end in "/*" like "/public/*"`,
      );
    }
    return { segments, below };
  });
}

/**
 * The request path's segments, or undefined when the path could be read two ways by the router and
 * the guard: dot segments (`/public/../admin`, also encoded as `%2e%2e`), encoded or back slashes,
 * empty segments (`//`), NUL, leftover `%` after decoding (double encoding) or undecodable escapes.
 * Such a path is never public: the guard asks for a token rather than guess what the router serves.
 */
function requestSegments(url: string): string[] | undefined {
  const path = url.split('?')[0] ?? '';
  if (!path.startsWith('/') || path.includes('\\')) return undefined;
  const segments = path.slice(1).split('/');
  for (const [i, segment] of segments.entries()) {
    // A trailing slash leaves one empty last segment; any other empty one is a double slash.
    if (segment === '' && i !== segments.length - 1) return undefined;
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
    if (decoded === '.' || decoded === '..' || /[/\\\0%]/.test(decoded)) return undefined;
  }
  return segments;
}

/**
 * Whether the request URL (path and query) is one of the public paths. Matched segment by segment,
 * as sent (percent-escapes are not undone for the comparison, and case counts), so `/public*`
 * covers /public, /public/ and /public/x but never /publicadmin, and `/health` is only /health.
 * Give it the FULL path: Express's req.url is relative to the mount point (expressGuard reads
 * req.originalUrl).
 */
export function isPublic(url: string, publicPaths: readonly string[]): boolean {
  return matchesPublic(url, compilePublicPaths(publicPaths));
}

function matchesPublic(url: string, list: readonly PublicPath[]): boolean {
  const segments = requestSegments(url);
  if (segments === undefined) return false;
  return list.some((p) => {
    if (p.below) {
      // Everything below: the segments match, the rest may be anything safe (or a trailing slash).
      return p.segments.every((s, i) => segments[i] === s);
    }
    return segments.length === p.segments.length && p.segments.every((s, i) => segments[i] === s);
  });
}

/** WWW-Authenticate and a small JSON body, as RFC 6750 §3 describes. */
export function challenge(error: GuardError): {
  status: number;
  header: string;
  body: Record<string, unknown>;
} {
  const code = error.status === 403 ? 'insufficient_scope' : 'invalid_token';
  const scope = error.scope ? `, scope="${error.scope}"` : '';
  return {
    status: error.status,
    header: `Bearer error="${code}"${scope}`,
    body: { error: code, error_description: error.message },
  };
}

type Next = (error?: unknown) => void;
export type GuardedRequest = IncomingMessage & { auth?: GuardClaims; originalUrl?: string };

/** Express/Connect: sets `req.auth`, or answers 401/403. */
export function expressGuard(options: GuardOptions) {
  const publicPaths = compilePublicPaths(options.publicPaths ?? []);
  return (req: GuardedRequest, res: ServerResponse, next: Next): void => {
    // Express and Connect rewrite req.url relative to the mount point (app.use('/api', guard) sees
    // /orders for /api/orders); originalUrl is the path the client sent, as the list names it.
    if (matchesPublic(req.originalUrl ?? req.url ?? '/', publicPaths)) {
      next();
      return;
    }
    authenticate(req.headers, options.verifier, options.scopes).then(
      (claims) => {
        req.auth = claims;
        next();
      },
      (error: unknown) => {
        if (!(error instanceof GuardError)) return next(error);
        const answer = challenge(error);
        res.statusCode = answer.status;
        res.setHeader('www-authenticate', answer.header);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(answer.body));
      },
    );
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: GuardClaims | null;
  }
}

async function guardPlugin(app: FastifyInstance, options: GuardOptions): Promise<void> {
  const publicPaths = compilePublicPaths(options.publicPaths ?? []);
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    // request.url is the full path as sent, wherever the plugin is registered (prefixes included).
    if (matchesPublic(request.url, publicPaths)) return;
    try {
      request.auth = await authenticate(request.headers, options.verifier, options.scopes);
    } catch (error) {
      if (!(error instanceof GuardError)) throw error;
      const answer = challenge(error);
      return reply.code(answer.status).header('www-authenticate', answer.header).send(answer.body);
    }
  });
}

/** Fastify: `app.register(fastifyGuard, { verifier, publicPaths })` guards every route of the app
 *  (register it inside a plugin to guard only that plugin's routes). */
export const fastifyGuard = fp(guardPlugin, { name: 'portcullis-guard', fastify: '5.x' });

/** A Fastify preHandler for one route: `{ preHandler: scopeGuard('write') }`. */
export function scopeGuard(...scopes: string[]) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      if (!request.auth) throw new GuardError(401, 'Authentication required.');
      requireScopes(request.auth, ...scopes);
    } catch (error) {
      if (!(error instanceof GuardError)) throw error;
      const answer = challenge(error);
      return reply.code(answer.status).header('www-authenticate', answer.header).send(answer.body);
    }
  };
}
