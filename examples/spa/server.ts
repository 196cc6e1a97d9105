// The example single-page app's static server: node:http, no dependencies, Node 24 runs it as is.
//
//   CLIENT_ID=<client_id> node examples/spa/server.ts
//
// Settings (environment): CLIENT_ID (required: the public client registered with Portcullis),
// PORTCULLIS_URL (Portcullis's issuer, default http://localhost:8000), PORT (default 5173),
// HOST (default 127.0.0.1).
//
// It serves five fixed files and /config.js; nothing else is reachable (no path is ever mapped to
// the file system, so there is nothing to traverse). Portcullis must allow this origin:
// start it with CORS_ORIGINS=http://localhost:5173.
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

function setting(name: string, fallback?: string): string {
  const value = process.env[name]?.trim() || fallback;
  if (value === undefined) {
    console.error(`${name} is required (see examples/spa/server.ts)`);
    process.exit(2);
  }
  return value;
}

const clientId = setting('CLIENT_ID');
const portcullis = new URL(setting('PORTCULLIS_URL', 'http://localhost:8000'));
const port = Number(setting('PORT', '5173'));
const host = setting('HOST', '127.0.0.1');
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error('PORT must be a port number');
  process.exit(2);
}

// The issuer exactly as Portcullis names it (its ISSUER), without the slash URL adds to a bare origin:
// oauth4webapi compares the discovery document's `issuer` and the ID token's `iss` with it.
const issuer = portcullis.pathname === '/' ? portcullis.origin : portcullis.href;

// The page may run only its own files, fetch only from Portcullis, and be framed by nobody:
// an injected script could neither load code from elsewhere nor send tokens anywhere else.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  `connect-src ${portcullis.origin}`,
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  // The callback URL carries the authorization code until app.js removes it: never send it on.
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  // Nothing here is worth caching, and the settings must change when the server is restarted.
  'cache-control': 'no-store',
};

interface Asset {
  type: string;
  body: Buffer | string;
}

const JS = 'text/javascript; charset=utf-8';
const vendor = fileURLToPath(import.meta.resolve('oauth4webapi'));
const page: Asset = { type: 'text/html; charset=utf-8', body: readFileSync(here('index.html')) };
const assets = new Map<string, Asset>([
  ['/', page],
  ['/index.html', page],
  ['/app.js', { type: JS, body: readFileSync(here('app.js')) }],
  ['/app.css', { type: 'text/css; charset=utf-8', body: readFileSync(here('app.css')) }],
  ['/favicon.svg', { type: 'image/svg+xml', body: readFileSync(here('favicon.svg')) }],
  // The browser build of oauth4webapi, one self-contained ES module, from node_modules (no CDN).
  ['/vendor/oauth4webapi.js', { type: JS, body: readFileSync(vendor) }],
  // Its source map, named by the module's last line, for the browser's developer tools.
  ['/vendor/index.js.map', { type: 'application/json', body: readFileSync(`${vendor}.map`) }],
  // The settings app.js imports: a module, so that connect-src can stay Portcullis alone.
  [
    '/config.js',
    { type: JS, body: `export default ${JSON.stringify({ issuer, clientId }, null, 2)};\n` },
  ],
]);

function send(res: ServerResponse, status: number, type: string, body: Buffer | string): void {
  res.writeHead(status, { ...HEADERS, 'content-type': type });
  res.end(body);
}

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://spa.invalid').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n');
  }
  const asset = assets.get(path);
  if (asset === undefined) return send(res, 404, 'text/plain; charset=utf-8', 'Not Found\n');
  send(res, 200, asset.type, req.method === 'HEAD' ? '' : asset.body);
});

server.listen(port, host, () => {
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  console.log(`Example SPA listening at http://localhost:${bound}/ (Portcullis: ${issuer})`);
});

// Ctrl-C and `kill` end it at once (open keep-alive connections too); there is no state to save.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
  });
