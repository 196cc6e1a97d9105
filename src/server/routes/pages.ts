// The web pages: static HTML, CSS and JS from web/, served by this server alone (no CDN) and free of
// inline script and style, so a strict Content-Security-Policy (self only) fits them.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { type Route, route } from '../route.ts';

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
  '/auth/second-factor': 'second-factor.html',
};

const partial = (name: string): string =>
  readFileSync(join(WEB_DIR, 'partials', name), 'utf8')
    .replace(/^ {2}/, '')
    .trimEnd();

/**
 * A page as served: its file with the shared head (charset, viewport, icon, stylesheet), header
 * (its own nav link marked current) and footer; each page keeps its title and script.
 */
export function renderPage(path: string, file: string): string {
  const header = partial('header.html').replace(
    `<a href="${path}"`,
    `<a aria-current="page" href="${path}"`,
  );
  return readFileSync(join(WEB_DIR, file), 'utf8')
    .replace('<!-- site-head -->', partial('head.html'))
    .replace('<!-- site-header -->', header)
    .replace('<!-- site-footer -->', partial('footer.html'));
}

/** /assets/*: the pages' stylesheets, scripts and images. */
export async function assets(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: join(WEB_DIR, 'assets'),
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    list: false,
  });
}

// @simplewebauthn/browser's ES module build, as installed with the server (a dependency): the pages
// import it from here, same origin, so the CSP stays 'self' and no CDN is involved.
const WEBAUTHN_BROWSER_DIR = dirname(fileURLToPath(import.meta.resolve('@simplewebauthn/browser')));

/** /assets/vendor/simplewebauthn/*: the browser library's .js modules only (no maps, no types). */
export async function vendorAssets(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: WEBAUTHN_BROWSER_DIR,
    prefix: '/assets/vendor/simplewebauthn/',
    decorateReply: false,
    index: false,
    list: false,
    allowedPath: (path) => /^\/[\w/-]+\.js$/.test(path) && !path.includes('..'),
  });
}

/** A page of PAGES; not part of the API document. */
export function page(path: string, file: string): Route {
  return route({
    schema: { hide: true },
    handler: () => {
      const html = renderPage(path, file);
      return async (_request, reply) =>
        // Revalidated on every visit, so a deploy never leaves a page on stale scripts.
        reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
    },
  });
}
