// The web pages: static HTML, CSS and JS from web/, served by this server alone (no CDN) and free of
// inline script and style, so a strict Content-Security-Policy (self only) fits them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));

/** Each page's path and file; new pages join this table. */
export const PAGES: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/login': 'login.html',
  '/register': 'register.html',
  '/account': 'account.html',
  '/admin': 'admin.html',
  '/forgot': 'forgot.html',
  '/reset': 'reset.html',
  '/verify': 'verify.html',
};

export async function pageRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: join(WEB_DIR, 'assets'),
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    list: false,
  });
  for (const [path, file] of Object.entries(PAGES)) {
    const html = readFileSync(join(WEB_DIR, file));
    app.get(path, { schema: { hide: true } }, async (_request, reply) =>
      // Revalidated on every visit, so a deploy never leaves a page on stale scripts.
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html),
    );
  }
}
