// Bad input outside the JSON body: content types, path parameters, query strings and the
// Authorization header.
import { FORM, formOf, withBody } from './build.ts';
import type { Ctx } from './context.ts';
import { type BodySpec, baseReq, type Case, type Endpoint } from './endpoints.ts';
import { anyClientError, badMediaType, type Family, invalid, tolerant } from './expect.ts';

export function contentTypeCases(ep: Endpoint, f: Family, spec: BodySpec | undefined): Case[] {
  const json = (ctx: Ctx): string => (spec ? JSON.stringify(spec.valid(ctx)) : '{"a":1}');
  const multipart = (ctx: Ctx): string =>
    `--x\r\nContent-Disposition: form-data; name="json"\r\n\r\n${json(ctx)}\r\n--x--\r\n`;
  const cases: Case[] = [
    {
      name: 'multipart/form-data body',
      build: withBody(ep, 'multipart/form-data; boundary=x', multipart),
      expect: badMediaType(f),
    },
    {
      name: 'application/xml body',
      build: withBody(ep, 'application/xml', () => '<a>1</a>'),
      expect: badMediaType(f),
    },
  ];
  if (!spec) return cases;
  cases.push(
    {
      name: 'text/plain body holding valid JSON',
      build: withBody(ep, 'text/plain', json),
      expect: badMediaType(f),
    },
    {
      name: 'no Content-Type',
      build: withBody(ep, undefined, (ctx) => new TextEncoder().encode(json(ctx))),
      expect: badMediaType(f),
    },
    {
      name: 'malformed Content-Type',
      build: withBody(ep, ';;;', json),
      expect: f === 'oauth' ? invalid(f) : { status: [400, 415] },
    },
  );
  // The OAuth endpoints take forms by design; everywhere else a form is an unsupported content type.
  if (f === 'problem') {
    cases.push({
      name: 'the valid body form-encoded',
      build: withBody(ep, FORM, (ctx) => formOf(spec.valid(ctx))),
      expect: badMediaType(f),
    });
  }
  return cases;
}

export function pathCases(ep: Endpoint, param: NonNullable<Endpoint['param']>): Case[] {
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

export function queryCases(ep: Endpoint): Case[] {
  const q = (query: string, expect: Case['expect']): Case => ({
    name: `query ?${query.length > 60 ? `${query.slice(0, 40)}… (${query.length} chars)` : query}`,
    build: (ctx) => ({ ...baseReq(ep, ctx), path: `${ep.path(ctx)}?${query}` }),
    expect,
  });
  const field = (name: string) => invalid('problem', name);
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
  return [
    ...[
      '0',
      '-1',
      '1e3',
      'abc',
      '201',
      '',
      '1.5',
      '%2010',
      '0x10',
      '010',
      '9999999999999999999999',
      '1&limit=2',
    ].map((v) => q(`limit=${v}`, field('limit'))),
    ...[
      'garbage!!',
      '%00',
      'A'.repeat(600),
      b64('not-a-uuid'),
      b64(`${'0'.repeat(35)}\u0000`),
      'a&cursor=b',
    ].map((v) => q(`cursor=${v}`, field('cursor'))),
    q(`q=${'x'.repeat(400)}`, field('q')),
    q('q=a&q=b', field('q')),
    // Open in the SPEC (an empty page or a refusal are both right); never a 5xx.
    ...[
      'q=%00',
      'q=%25',
      'q=_',
      'q=%E0%A4%A',
      `cursor=${b64('-'.repeat(36))}`,
      'foo=1',
      '__proto__[is_superuser]=1',
      'constructor[prototype][x]=1',
    ].map((v) => q(v, tolerant)),
  ];
}

export function authCases(ep: Endpoint): Case[] {
  const e = { status: [401], challenge: true } as const;
  const header = (name: string, value: (ctx: Ctx) => string | null): Case => ({
    name: `Authorization: ${name}`,
    build: (ctx) => ({ ...baseReq(ep, ctx), authorization: value(ctx) }),
    expect: e,
  });
  const own = (ctx: Ctx): string =>
    (ep.auth === 'admin' ? ctx.admin : ctx.actor).tokens.access_token;
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
      build: (ctx) => ({
        ...baseReq(ep, ctx),
        authorization: `Bearer ${ctx.actor.tokens.access_token}`,
      }),
      expect: { status: [403], code: 'insufficient_scope', challenge: true },
    });
  }
  return cases;
}
