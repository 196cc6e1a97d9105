// fast-check generators of hostile requests: any method, path values, query strings, content types,
// bodies (JSON of any shape, the route's own fields with any values, form bodies, raw bytes), and
// Authorization, Cookie, X-Forwarded-For and X-CSRF-Token headers built from real and broken tokens.
import fc from 'fast-check';
import { PLACEHOLDERS, type Placeholder, type Route } from './world.ts';

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
}

const placeholders = Object.keys(PLACEHOLDERS) as Placeholder[];
const ascii = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
/** Header-safe text (visible ASCII and space). */
const headerText = (maxLength = 120) => fc.string({ unit: ascii, maxLength });
const placeholder = fc.constantFrom(...placeholders);
const ODD = [
  '',
  ' ',
  '0',
  '-1',
  'null',
  'true',
  '[]',
  '{}',
  '%00',
  '\u0000',
  '..',
  '../..',
  'a'.repeat(300),
  '😀',
  'Ａ',
  "' or 1=1 --",
  '$' + '{jndi:ldap://x}',
  '<script>',
];

/** A string value: a real token or id, a broken one, something odd, or anything at all. */
const value = fc.oneof(
  { weight: 3, arbitrary: placeholder },
  { weight: 2, arbitrary: fc.constantFrom(...ODD) },
  { weight: 2, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.tuple(placeholder, headerText(8)).map(([p, s]) => `${p}${s}`) },
);

const jsonish = fc.oneof(
  { weight: 4, arbitrary: value },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null)) },
  { weight: 1, arbitrary: fc.array(value, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 3 }) },
);

const EXTRA_FIELDS = [
  '__proto__',
  'constructor',
  'is_superuser',
  'scopes',
  'password_hash',
  'id',
  'grant_type',
  'token',
];

function fieldsOf(route: Route): fc.Arbitrary<Record<string, unknown>> {
  const names = [...route.fields, ...EXTRA_FIELDS];
  return fc.dictionary(fc.constantFrom(...names), jsonish, { maxKeys: 6 });
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded;charset=UTF-8',
  'text/plain',
  'multipart/form-data; boundary=xyz',
  'application/problem+json',
  'application/xml',
  '*/*',
  'application/json;;',
];

function body(
  route: Route,
): fc.Arbitrary<{ type: string | undefined; body: string | Uint8Array | undefined }> {
  const type = fc.option(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
      { weight: 1, arbitrary: headerText(60) },
    ),
    { nil: undefined },
  );
  const payload = fc.oneof(
    { weight: 3, arbitrary: fieldsOf(route).map((f) => JSON.stringify(f)) },
    {
      weight: 2,
      arbitrary: fieldsOf(route).map((f) =>
        new URLSearchParams(
          Object.entries(f).map(([k, v]): [string, string] => [
            k,
            typeof v === 'string' ? v : JSON.stringify(v),
          ]),
        ).toString(),
      ),
    },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{',
        '{"a":',
        '[[[[[[[[[[',
        'null',
        '""',
        '{"__proto__":{"is_superuser":true}}',
        '\u0000',
      ),
    },
  );
  return fc.record({ type, body: fc.option(payload, { nil: undefined }) });
}

const authorization = fc.oneof(
  fc
    .constantFrom(
      '@@ACCESS@@',
      '@@ADMIN@@',
      '@@ACCESS_SIG@@',
      '@@ACCESS_CUT@@',
      '@@ACCESS_NONE@@',
      '@@REFRESH@@',
    )
    .map((t) => `Bearer ${t}`),
  headerText(80).map((t) => `Bearer ${t}`),
  fc
    .tuple(headerText(20), headerText(20))
    .map(([u, p]) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`),
  fc.constantFrom(
    'Bearer',
    'Bearer ',
    'Basic',
    'Basic !!!',
    'bearer @@ACCESS@@',
    'Bearer @@ACCESS@@ @@ACCESS@@',
    'Digest x',
  ),
  headerText(80),
);

const cookie = fc.oneof(
  fc
    .array(
      fc.tuple(
        fc.constantFrom(
          'access_token',
          'refresh_token',
          '__Host-access',
          '__Host-refresh',
          'csrf',
          'session',
          'x',
        ),
        fc.oneof(placeholder, headerText(40)),
      ),
      { maxLength: 4 },
    )
    .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('; ')),
  headerText(120),
);

function pathOf(route: Route): fc.Arbitrary<string> {
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  const segment = fc.oneof(
    { weight: 3, arbitrary: value.map((v) => encodeURIComponent(v)) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%00', '..%2F..', '%2e%2e', 'a/b', '') },
  );
  const query = fc.oneof(
    fc
      .dictionary(fc.constantFrom(...route.query, 'limit', 'cursor', 'q', 'x'), value, {
        maxKeys: 4,
      })
      .map((q) => new URLSearchParams(q).toString()),
    fc.constantFrom(
      '%zz',
      'limit=1&limit=2',
      'cursor[]=1',
      'a=%00',
      '&&&=',
      'limit=-1',
      'limit=1e3',
    ),
  );
  return fc
    .tuple(
      fc.array(segment, { minLength: params.length, maxLength: params.length }),
      fc.option(query, { nil: undefined }),
    )
    .map(([values, q]) => {
      let path = route.path;
      params.forEach((p, i) => {
        path = path.replace(`{${p}}`, values[i] ?? '');
      });
      return q === undefined || q === '' ? path : `${path}?${q}`;
    });
}

export function requestFor(route: Route): fc.Arbitrary<FuzzRequest> {
  const method = fc.oneof(
    { weight: 5, arbitrary: fc.constant(route.method) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
    },
  );
  return fc
    .record({
      method,
      path: pathOf(route),
      body: body(route),
      authorization: fc.option(authorization, { nil: undefined }),
      cookie: fc.option(cookie, { nil: undefined }),
      forwarded: fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), headerText(40)), { nil: undefined }),
      csrf: fc.option(fc.oneof(placeholder, headerText(40)), { nil: undefined }),
      origin: fc.option(fc.constantFrom('https://evil.example', 'null', 'http://localhost:8000'), {
        nil: undefined,
      }),
    })
    .map((r) => {
      const headers: Record<string, string> = {};
      if (r.body.type !== undefined) headers['content-type'] = r.body.type;
      if (r.authorization !== undefined) headers.authorization = r.authorization;
      if (r.cookie !== undefined) headers.cookie = r.cookie;
      if (r.forwarded !== undefined) headers['x-forwarded-for'] = r.forwarded;
      if (r.csrf !== undefined) headers['x-csrf-token'] = r.csrf;
      if (r.origin !== undefined) headers.origin = r.origin;
      return { method: r.method, path: r.path, headers, body: r.body.body };
    });
}
