// The guard for other services: a framework-agnostic function, an Express/Connect middleware and a
// Fastify plugin. Guard route by route, or every route except a list of public paths.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type GuardClaims, GuardError, requireScopes, type Verifier } from './verifier.ts';

export interface GuardOptions {
  verifier: Verifier;
  /** Paths served without a token (exact, or a prefix ending in `*`), as the guides' middleware. */
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

export function isPublic(path: string, publicPaths: readonly string[]): boolean {
  const clean = path.split('?')[0] ?? '';
  return publicPaths.some((p) =>
    p.endsWith('*') ? clean.startsWith(p.slice(0, -1)) : clean === p,
  );
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
export type GuardedRequest = IncomingMessage & { auth?: GuardClaims };

/** Express/Connect: sets `req.auth`, or answers 401/403. */
export function expressGuard(options: GuardOptions) {
  return (req: GuardedRequest, res: ServerResponse, next: Next): void => {
    if (isPublic(req.url ?? '/', options.publicPaths ?? [])) {
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
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (isPublic(request.url, options.publicPaths ?? [])) return;
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
