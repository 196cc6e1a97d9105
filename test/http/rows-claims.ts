// Rows signed with the server's OWN key whose header or claims are wrong (only the server could mint
// them: they catch "we forgot to check X"), then malformed tokens and malformed Authorization
// headers. security-tests.md B1–B4, C1–C8, D2–D10, D15.

import { b64url, es256, es256Segments, padded, parts, seg, spoil } from './forge.ts';
import type { Attack, HostileContext } from './hostile-context.ts';

const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'exp', 'iat', 'jti', 'sid', 'client_id'] as const;

const ttl = (c: HostileContext): number => c.server.config.accessTokenTtlSeconds;

const kidRows: Attack[] = [
  { name: 'kid: path traversal', build: (c) => c.forge({ kid: '../../../../../../dev/null' }) },
  {
    name: 'kid: SQL text',
    build: (c) => c.forge({ kid: `${c.kid}' OR '1'='1'; DROP TABLE users;--` }),
    postgres: true,
  },
  { name: 'kid: 10 000 characters', build: (c) => c.forge({ kid: 'k'.repeat(10_000) }) },
  { name: 'kid: the real kid and a NUL byte', build: (c) => c.forge({ kid: `${c.kid}\u0000` }) },
  { name: 'kid: a number', build: (c) => c.forge({ kid: 1 }) },
  { name: 'kid: an array holding the real kid', build: (c) => c.forge({ kid: [c.kid] }) },
  { name: 'kid: null', build: (c) => c.forge({ kid: null }) },
  { name: 'kid: missing', build: (c) => c.forge({ kid: undefined }) },
  { name: 'kid: empty string', build: (c) => c.forge({ kid: '' }) },
];

const typRows: Attack[] = [
  { name: 'typ: JWT', build: (c) => c.forge({ typ: 'JWT' }) },
  { name: 'typ: missing', build: (c) => c.forge({ typ: undefined }) },
  { name: 'typ: at+jtw (misspelled)', build: (c) => c.forge({ typ: 'at+jtw' }) },
  { name: 'typ: at-jwt (misspelled)', build: (c) => c.forge({ typ: 'at-jwt' }) },
];

const claimRows: Attack[] = [
  { name: 'iss: another issuer', build: (c) => c.forge({}, { iss: 'https://evil.example' }) },
  {
    name: 'iss: ours with a trailing slash',
    build: (c) => c.forge({}, { iss: `${c.claims.iss}/` }),
  },
  {
    name: 'aud: another audience',
    build: (c) => c.forge({}, { aud: 'https://api.other.example' }),
  },
  {
    name: 'aud: an array without ours',
    build: (c) => c.forge({}, { aud: ['https://api.other.example', 'https://evil.example'] }),
  },
  {
    name: 'expired (issued, then the server clock moves past exp + leeway)',
    build: (c) => c.forge({}, { iat: c.nowSeconds(), exp: c.nowSeconds() + ttl(c) }),
    advanceMs: (c) => (ttl(c) + 6) * 1000,
  },
  {
    name: 'iat 60 s in the future',
    build: (c) => c.forge({}, { iat: c.nowSeconds() + 60, exp: c.nowSeconds() + 60 + ttl(c) }),
  },
  {
    name: 'nbf 60 s in the future',
    build: (c) => c.forge({}, { nbf: c.nowSeconds() + 60 }),
  },
  {
    name: 'a lifetime longer than the server issues (iat 2 TTLs ago, exp still ahead)',
    build: (c) => c.forge({}, { iat: c.nowSeconds() - 2 * ttl(c), exp: c.nowSeconds() + ttl(c) }),
  },
  ...REQUIRED_CLAIMS.map(
    (claim): Attack => ({
      name: `required claim missing: ${claim}`,
      build: (c) => c.forge({}, { [claim]: undefined }),
      // The one the guard used to accept: on both databases.
      postgres: claim === 'client_id' ? true : undefined,
    }),
  ),
  // Present but not what the server issues: only a holder of the key could mint these.
  ...(['sub', 'sid', 'jti', 'client_id'] as const).flatMap((claim): Attack[] => [
    { name: `${claim}: empty string`, build: (c) => c.forge({}, { [claim]: '' }) },
    { name: `${claim}: a number`, build: (c) => c.forge({}, { [claim]: 7 }) },
  ]),
  { name: 'scope: a number', build: (c) => c.forge({}, { scope: 7 }) },
  { name: 'scope: an array', build: (c) => c.forge({}, { scope: ['read', 'write'] }) },
  { name: 'scope: two spaces between scopes', build: (c) => c.forge({}, { scope: 'read  write' }) },
  { name: 'scope: a leading space', build: (c) => c.forge({}, { scope: ' read' }) },
  { name: 'scope: a tab between scopes', build: (c) => c.forge({}, { scope: 'read\twrite' }) },
  { name: 'scope: a double quote', build: (c) => c.forge({}, { scope: 'read "admin"' }) },
  { name: 'preferred_username: a number', build: (c) => c.forge({}, { preferred_username: 7 }) },
];

const headerRows: Attack[] = [
  // Key-naming headers the guard's own list lacked (RFC 8725 §3.1), on a token the server key signed.
  {
    name: 'x5t header (a certificate thumbprint)',
    build: (c) => c.forge({ x5t: b64url('0123456789abcdefghij') }),
    postgres: true,
  },
  {
    name: 'x5t#S256 header (a certificate thumbprint)',
    build: (c) => c.forge({ 'x5t#S256': b64url('0123456789abcdef0123456789abcdef') }),
  },
  {
    name: 'jwk header holding the server key itself',
    build: (c) => c.forge({ jwk: c.publicJwk }),
  },
  { name: 'b64: true without crit', build: (c) => c.forge({ b64: true }) },
  { name: 'crit names a registered claim header', build: (c) => c.forge({ crit: ['exp'] }) },
  {
    name: 'crit names an unknown header',
    build: (c) => c.forge({ crit: ['x-unknown'], 'x-unknown': 1 }),
  },
  {
    name: 'b64: false with crit b64 (unencoded payload inline)',
    build: (c) => {
      const { kid, key } = c.signing();
      // One scope: the raw JSON must hold no space, or the header parser, not the verifier, refuses it.
      const raw = JSON.stringify({ ...c.claims, scope: 'read' });
      return es256Segments(key, seg({ ...c.header, kid, b64: false, crit: ['b64'] }), raw);
    },
  },
  {
    name: 'b64: false with crit b64 (payload detached)',
    build: async (c) => {
      const { kid, key } = c.signing();
      const h = seg({ ...c.header, kid, b64: false, crit: ['b64'] });
      const signed = await es256Segments(key, h, JSON.stringify(c.claims));
      return `${h}..${parts(signed)[2]}`;
    },
  },
];

// Each segment spoiled in turn: an illegal character (same length), or base64 `=` padding.
const SEGMENTS = ['header', 'payload', 'signature'] as const;
const base64Rows: Attack[] = SEGMENTS.flatMap((which, i): Attack[] => {
  const rebuilt = (c: HostileContext, change: (segment: string) => string): string =>
    parts(c.genuine)
      .map((segment, j) => (j === i ? change(segment) : segment))
      .join('.');
  return [
    {
      name: `malformed base64url in the ${which}: "*"`,
      build: (c) => rebuilt(c, (s) => spoil(s, 5, '*')),
    },
    {
      name: `malformed base64url in the ${which}: "+" and "/"`,
      build: (c) => rebuilt(c, (s) => spoil(spoil(s, 5, '+'), 6, '/')),
    },
    { name: `malformed base64url in the ${which}: "=" padding`, build: (c) => rebuilt(c, padded) },
  ];
});

const shapeRows: Attack[] = [
  { name: 'two segments', build: (c) => parts(c.genuine).slice(0, 2).join('.') },
  { name: 'four segments', build: (c) => `${c.genuine}.${parts(c.genuine)[2]}` },
  {
    name: 'five segments (JWE shape)',
    build: () =>
      `${seg({ alg: 'dir', enc: 'A256GCM' })}..${b64url('iv')}.${b64url('ct')}.${b64url('tag')}`,
  },
  { name: 'empty string', build: () => '' },
  { name: 'spaces inside the token', build: (c) => parts(c.genuine).join(' . ') },
  {
    name: 'a 100 KB token (Node refuses headers over 16 KiB before the app: 431)',
    build: (c) => `${parts(c.genuine)[0]}.${b64url('x'.repeat(75_000))}.${parts(c.genuine)[2]}`,
    status: 431,
  },
  {
    name: 'a 12 KB token (under the header limit, over any token we issue)',
    build: (c) => {
      const [h, , s] = parts(c.genuine);
      return `${h}.${seg({ ...c.claims, pad: 'x'.repeat(9_000) })}.${s}`;
    },
  },
  {
    name: 'header is a JSON array',
    build: (c) => `${seg([c.header])}.${parts(c.genuine).slice(1).join('.')}`,
  },
  {
    name: 'header is a JSON number',
    build: (c) => `${seg(42)}.${parts(c.genuine).slice(1).join('.')}`,
  },
  {
    name: 'payload is a JSON array (signed by the server key)',
    build: (c) => es256(c.signing().key, c.header, [c.claims]),
  },
  {
    name: 'payload is a JSON number (signed by the server key)',
    build: (c) => es256(c.signing().key, c.header, 1_700_000_000),
  },
];

const transportRows: Attack[] = [
  { name: 'the refresh token as a bearer token', build: (c) => c.refresh, postgres: true },
  { name: 'Authorization: "Bearer" alone', build: () => 'Bearer', header: true },
  {
    name: 'Authorization: Basic credentials',
    build: () => `Basic ${btoa('alice:correct horse')}`,
    header: true,
  },
  {
    name: 'Authorization: two tokens',
    build: (c) => `Bearer ${c.genuine} ${c.genuine}`,
    header: true,
  },
  {
    name: 'Authorization: two Bearer credentials',
    build: (c) => `Bearer ${c.genuine}, Bearer ${c.genuine}`,
    header: true,
  },
  { name: 'Authorization: the token without a scheme', build: (c) => c.genuine, header: true },
];

export const claimAndFormatRows: Attack[] = [
  ...kidRows,
  ...typRows,
  ...claimRows,
  ...headerRows,
  ...base64Rows,
  ...shapeRows,
  ...transportRows,
];
