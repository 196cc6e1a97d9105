// Bad input outside the JSON body: content types, form bodies of the OAuth endpoints, path
// parameters, query strings and Authorization headers; and the whole list for one endpoint.
import { bodyCases, malformedCases, sizeCases } from './body-cases.ts';
import type { Ctx } from './context.ts';
import { type BodySpec, baseReq, type Case, type Endpoint } from './endpoints.ts';
import { anyClientError, badMediaType, type Family, invalid, tolerant, tooLarge } from './expect.ts';
import type { Req } from './send.ts';

const FORM = 'application/x-www-form-urlencoded';

function formOf(values: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v));
  }
  return params.toString();
}

function withBody(ep: Endpoint, contentType: string | undefined, body: (ctx: Ctx) => string | Uint8Array): (ctx: Ctx) => Req {
  return (ctx) => ({ ...baseReq(ep, ctx), contentType, body: body(ctx) });
}

function contentTypeCases(ep: Endpoint, f: Family, spec: BodySpec | undefined): Case[] {
  const json = (ctx: Ctx): string => (spec ? JSON.stringify(spec.valid(ctx)) : '{"a":1}');
  const multipart = (ctx: Ctx): string =>
    `--x\r\nContent-Disposition: form-data; name="json"\r\n\r\n${json(ctx)}\r\n--x--\r\n`;
  const cases: Case[] = [
    { name: 'multipart/form-data body', build: withBody(ep, 'multipart/form-data; boundary=x', multipart), expect: badMediaType(f) },
    { name: 'application/xml body', build: withBody(ep, 'application/xml', () => '<a>1</a>'), expect: badMediaType(f) },
  ];
  if (!spec) return cases;
  cases.push(
    { name: 'text/plain body holding valid JSON', build: withBody(ep, 'text/plain', json), expect: badMediaType(f) },
    { name: 'no Content-Type', build: withBody(ep, undefined, (ctx) => new TextEncoder().encode(json(ctx))), expect: badMediaType(f) },
    { name: 'malformed Content-Type', build: withBody(ep, ';;;', json), expect: f === 'oauth' ? invalid(f) : { status: [400, 415] } },
  );
  // The OAuth endpoints take forms by design; everywhere else a form is an unsupported content type.
  if (f === 'problem') {
    cases.push({ name: 'the valid body form-encoded', build: withBody(ep, FORM, (ctx) => formOf(spec.valid(ctx))), expect: badMediaType(f) });
  }
  return cases;
}

function formCases(ep: Endpoint, spec: BodySpec): Case[] {
  const f = ep.family;
  const e = invalid(f);
  const form = (change: (v: Record<string, unknown>) => Record<string, unknown>) =>
    withBody(ep, FORM, (ctx) => formOf(change(spec.valid(ctx))));
  const raw = (body: (ctx: Ctx) => string) => withBody(ep, FORM, body);
  const cases: Case[] = [
    { name: 'form: empty body', build: raw(() => ''), expect: e },
    { name: 'form: only separators', build: raw(() => '&&=&==&'), expect: e },
    { name: 'form: a body of 5 MB', build: raw((ctx) => `${formOf(spec.valid(ctx))}&pad=${'a'.repeat(5_000_000)}`), expect: tooLarge(f) },
  ];
  for (const field of spec.required) {
    cases.push({ name: `form: ${field} missing`, build: form((v) => ({ ...v, [field]: [] })), expect: e });
    cases.push({ name: `form: ${field}[] instead of ${field}`, build: raw((ctx) => formOf({ ...spec.valid(ctx), [field]: [] }).concat(`&${field}%5B%5D=x`)), expect: e });
  }
  for (const [field, role] of Object.entries(spec.fields)) {
    const value = (v: Record<string, unknown>): string => (typeof v[field] === 'string' ? String(v[field]) : 'x');
    // Parameter pollution: a repeated parameter is ambiguous, never "the first" or "the last".
    cases.push({ name: `form: ${field} given twice`, build: form((v) => ({ ...v, [field]: [value(v), value(v)] })), expect: e });
    cases.push({ name: `form: ${field} of 100 KB`, build: form((v) => ({ ...v, [field]: 'a'.repeat(100_000) })), expect: e });
    if (role === 'opaque') continue;
    const soft = role === 'token' ? tolerant : anyClientError;
    cases.push({ name: `form: NUL appended to ${field}`, build: raw((ctx) => `${formOf({ ...spec.valid(ctx), [field]: [] })}&${field}=${encodeURIComponent(value(spec.valid(ctx)))}%00`), expect: soft });
    cases.push({ name: `form: invalid UTF-8 (%FF) appended to ${field}`, build: raw((ctx) => `${formOf({ ...spec.valid(ctx), [field]: [] })}&${field}=${encodeURIComponent(value(spec.valid(ctx)))}%FF%C3%28`), expect: soft });
  }
  return cases;
}

function pathCases(ep: Endpoint, param: NonNullable<Endpoint['param']>): Case[] {
  const values: Array<[string, (real: string) => string, Case['expect']]> = [
    ['5000 characters', () => 'x'.repeat(5000), anyClientError],
    ['99 characters', () => 'x'.repeat(99), anyClientError],
    ['a percent-encoded NUL', () => '%00', anyClientError],
    ['the real value + a percent-encoded NUL', (r) => `${r}%00`, anyClientError],
    ['..%2f..%2fadmin%2fusers', () => '..%2f..%2fadmin%2fusers', anyClientError],
    ['the real value + %2f..', (r) => `${r}%2f..`, anyClientError],
    ['%2e%2e', () => '%2e%2e', anyClientError],
    ['an overlong UTF-8 ".."', () => '%C0%AE%C0%AE', anyClientError],
    ['a broken percent escape', () => '%E0%A4%A', { status: [400] }],
    ['invalid UTF-8 (%FF)', () => '%FF', { status: [400] }],
  ];
  return values.map(([name, value, expect]) => ({
    name: `path parameter: ${name}`,
    build: (ctx: Ctx) => ({ ...baseReq(ep, ctx), path: param.path(value(param.real(ctx))) }),
    expect,
  }));
}

function queryCases(ep: Endpoint): Case[] {
  const q = (query: string, expect: Case['expect']): Case => ({
    name: `query ?${query.length > 60 ? `${query.slice(0, 40)}… (${query.length} chars)` : query}`,
    build: (ctx) => ({ ...baseReq(ep, ctx), path: `${ep.path(ctx)}?${query}` }),
    expect,
  });
  const field = (name: string) => invalid('problem', name);
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
  return [
    ...['0', '-1', '1e3', 'abc', '201', '', '1.5', '%2010', '0x10', '010', '9999999999999999999999', '1&limit=2'].map((v) => q(`limit=${v}`, field('limit'))),
    ...['garbage!!', '%00', 'A'.repeat(600), b64('not-a-uuid'), b64(`${'0'.repeat(35)}\u0000`), 'a&cursor=b'].map((v) => q(`cursor=${v}`, field('cursor'))),
    q(`q=${'x'.repeat(400)}`, field('q')),
    q('q=a&q=b', field('q')),
    // Open in the SPEC (an empty page or a refusal are both right); never a 5xx.
    ...['q=%00', 'q=%25', 'q=_', 'q=%E0%A4%A', `cursor=${b64('-'.repeat(36))}`, 'foo=1', '__proto__[is_superuser]=1', 'constructor[prototype][x]=1'].map((v) => q(v, tolerant)),
  ];
}

function authCases(ep: Endpoint): Case[] {
  const e = { status: [401], challenge: true } as const;
  const header = (name: string, value: (ctx: Ctx) => string | null): Case => ({
    name: `Authorization: ${name}`,
    build: (ctx) => ({ ...baseReq(ep, ctx), authorization: value(ctx) }),
    expect: e,
  });
  const own = (ctx: Ctx): string => (ep.auth === 'admin' ? ctx.admin : ctx.actor).tokens.access_token;
  const noneAlg = (ctx: Ctx): string => {
    const [, payload] = own(ctx).split('.');
    return `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${payload}.`;
  };
  const cases = [
    header('none', () => null),
    header('"Bearer" alone', () => 'Bearer'),
    header('Basic credentials', () => 'Basic dXNlcjpwYXNzd29yZA=='),
    header('Bearer garbage', () => 'Bearer garbage'),
    header('Bearer a.b.c', () => 'Bearer a.b.c'),
    header('Bearer of 8 KB', () => `Bearer ${'A'.repeat(8192)}`),
    header('Bearer <token> plus junk', (ctx) => `Bearer ${own(ctx)} junk`),
    header('two Bearer tokens', (ctx) => `Bearer ${own(ctx)}, Bearer ${own(ctx)}`),
    header('a refresh token as Bearer', (ctx) => `Bearer ${ctx.spare.refresh_token}`),
    header('the access token re-signed with alg none', (ctx) => `Bearer ${noneAlg(ctx)}`),
  ];
  if (ep.auth === 'admin') {
    cases.push({
      name: 'Authorization: a normal user’s token',
      build: (ctx) => ({ ...baseReq(ep, ctx), authorization: `Bearer ${ctx.actor.tokens.access_token}` }),
      expect: { status: [403], code: 'insufficient_scope', challenge: true },
    });
  }
  return cases;
}

/** Every case for one endpoint. Cases that a broken server would most likely act on come last. */
export function casesFor(ep: Endpoint): Case[] {
  const cases: Case[] = [];
  if (ep.auth !== 'none') cases.push(...authCases(ep));
  if (ep.param) cases.push(...pathCases(ep, ep.param));
  if (ep.query) cases.push(...queryCases(ep));
  if (ep.bodyless) cases.push(...malformedCases(ep, ep.family), ...sizeCases(ep, ep.family));
  if (ep.body) cases.push(...bodyCases(ep, ep.body), ...sizeCases(ep, ep.family));
  if (ep.body && ep.family === 'oauth') cases.push(...formCases(ep, ep.body));
  if (ep.body || ep.bodyless) cases.push(...contentTypeCases(ep, ep.family, ep.body));
  return cases;
}
