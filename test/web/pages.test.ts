// The web pages as files and as served: no inline script or style, no third-party resource, every
// field labelled; pages and assets served by the server itself. (Static files: SQLite is enough.)
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PAGES, renderPage, WEB_DIR } from '../../src/server/routes/pages.ts';
import { type Client, client } from '../support/http.ts';
import { startServer, type TestServer } from '../support/server.ts';

const ASSETS = join(WEB_DIR, 'assets');
// Pages with a link of their own in the shared navigation.
const NAV: Record<string, true> = { '/': true, '/account': true, '/admin': true };
// The provider's pages, rendered by routes from web/oauth/ rather than served as they are.
const OAUTH_PAGES = readdirSync(join(WEB_DIR, 'oauth')).filter((f) => f.endsWith('.html'));
const html = [
  ...Object.entries(PAGES).map(([path, file]): [string, string] => [file, renderPage(path, file)]),
  ...OAUTH_PAGES.map((file): [string, string] => [
    `oauth/${file}`,
    renderPage('/authorize', `oauth/${file}`),
  ]),
];
const scripts = readdirSync(ASSETS)
  .filter((f) => f.endsWith('.js'))
  .map((file): [string, string] => [file, readFileSync(join(ASSETS, file), 'utf8')]);

describe('web/ files', () => {
  it('have no inline script, inline style or event-handler attribute (a strict CSP fits)', () => {
    for (const [file, text] of html) {
      for (const tag of text.match(/<script\b[^>]*>/gi) ?? []) {
        assert.match(tag, /\ssrc="\/assets\/[\w-]+\.js"/, `${file}: ${tag}`);
      }
      assert.doesNotMatch(text, /<script\b[^>]*>[^<\s]/i, `${file}: script with a body`);
      assert.doesNotMatch(text, /<style\b/i, `${file}: <style>`);
      assert.doesNotMatch(text, /\sstyle\s*=/i, `${file}: style attribute`);
      assert.doesNotMatch(text, /\son[a-z]+\s*=/i, `${file}: event-handler attribute`);
      assert.doesNotMatch(text, /javascript:/i, `${file}: javascript: URL`);
    }
  });

  it('load nothing from another host', () => {
    for (const [file, text] of [...html, ...scripts]) {
      assert.doesNotMatch(
        text,
        /(src|href)\s*=\s*["']?(https?:)?\/\//i,
        `${file}: external resource`,
      );
      assert.doesNotMatch(text, /(fetch|import)\s*\(\s*['"`]https?:/i, `${file}: external request`);
    }
  });

  it('scripts never build HTML from strings nor evaluate code', () => {
    for (const [file, text] of scripts) {
      assert.doesNotMatch(text, /\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write/, file);
      assert.doesNotMatch(text, /\beval\s*\(|new Function\s*\(/, file);
      assert.doesNotMatch(text, /setAttribute\(\s*['"]style/, file);
    }
  });

  it('include the provider’s pages, none of them served as a static page', () => {
    assert.deepEqual(OAUTH_PAGES.sort(), [
      'authorize-error.html',
      'consent.html',
      'logout-confirm.html',
      'signed-out.html',
    ]);
    for (const file of Object.values(PAGES)) assert.ok(!file.startsWith('oauth/'), file);
  });

  it('label every field', () => {
    for (const [file, text] of html) {
      const labelled = new Set([...text.matchAll(/<label for="([^"]+)"/g)].map((m) => m[1]));
      for (const [, id] of text.matchAll(/<input\b[^>]*\sid="([^"]+)"/g)) {
        assert.ok(labelled.has(id), `${file}: input #${id} has a label`);
      }
      assert.match(text, /<html lang="en">/, `${file}: language`);
      assert.match(text, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
      assert.match(text, /<main id="main"/, `${file}: main landmark`);
      assert.match(text, /class="skip-link" href="#main"/, `${file}: skip link`);
    }
  });
});

describe('web/ as served', () => {
  let server: TestServer;
  let api: Client;
  before(async () => {
    server = await startServer();
    api = client(server.url);
  });
  after(() => server.close());

  it('serves every page as HTML, revalidated on each visit, without cookies', async () => {
    for (const [path, file] of Object.entries(PAGES)) {
      const answer = await api.get(path);
      assert.equal(answer.status, 200, path);
      assert.equal(answer.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(answer.headers.get('cache-control'), 'no-cache');
      assert.deepEqual(answer.headers.getSetCookie(), []);
      assert.equal(answer.text, renderPage(path, file));
      assert.doesNotMatch(answer.text, /<!-- site-(header|footer) -->/, `${path}: unfilled slot`);
      assert.equal(
        (answer.text.match(/aria-current="page"/g) ?? []).length,
        path in NAV ? 1 : 0,
        path,
      );
      assert.equal((await api.request('HEAD', path)).status, 200);
    }
  });

  it('serves the assets with their types, and nothing outside web/assets', async () => {
    const types: Record<string, RegExp> = {
      '/assets/app.css': /^text\/css/,
      '/assets/session.js': /^(text|application)\/javascript/,
      '/assets/logo.svg': /^image\/svg\+xml/,
    };
    for (const [path, type] of Object.entries(types)) {
      const answer = await api.get(path);
      assert.equal(answer.status, 200, path);
      assert.match(answer.headers.get('content-type') ?? '', type);
    }
    for (const path of [
      '/assets/nope.js',
      '/assets/../package.json',
      '/assets/%2e%2e/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/',
      '/index.html',
      '/web/login.html',
    ]) {
      const answer = await api.get(path);
      assert.ok([400, 403, 404].includes(answer.status), `${path}: ${answer.status}`);
      assert.ok(!answer.text.includes('"devDependencies"'), `${path} leaked a file`);
    }
  });
});
