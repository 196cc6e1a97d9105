// Bad JSON bodies: each is the endpoint's valid body with one thing broken, so that a server which
// wrongly accepted it would act (and the store snapshot would see it).
import type { Ctx } from './context.ts';
import { type BodySpec, baseReq, type Case, type Endpoint, type Role } from './endpoints.ts';
import {
  anyClientError,
  type Family,
  invalid,
  refused,
  tolerant,
  tooLarge,
  unparsable,
} from './expect.ts';
import type { Req } from './send.ts';

const MIB = 1024 * 1024;
const WRONG: Record<Role, readonly unknown[]> = {
  text: [42, true, ['x'], { x: 'y' }, null],
  check: [42, true, ['x'], { x: 'y' }, null],
  token: [42, true, ['x'], { x: 'y' }, null],
  opaque: [42, true, ['x'], { x: 'y' }, null],
  flag: ['true', 1, [true], { x: true }, null],
  list: ['read', 1, true, { 0: 'read' }, null, [1], [null], [['read']]],
};
/** U+E000 marks where invalid bytes go once the JSON text is encoded. */
const MARK = '\uE000';
const BAD_UTF8 = [0xff, 0xfe, 0xc3, 0x28];

/** The valid JSON text with `edit` applied to its text. */
function text(
  ep: Endpoint,
  edit: (json: string, ctx: Ctx) => string | Uint8Array,
): (ctx: Ctx) => Req {
  return (ctx) => {
    const req = baseReq(ep, ctx);
    // An endpoint without a body gets a small object of its own to break.
    req.body = edit(typeof req.body === 'string' ? req.body : '{"a":1}', ctx);
    req.contentType = 'application/json';
    return req;
  };
}

/** The valid body with fields changed (undefined removes a field). */
function fields(
  ep: Endpoint,
  spec: BodySpec,
  change: (valid: Record<string, unknown>) => Record<string, unknown>,
): (ctx: Ctx) => Req {
  return text(ep, (_json, ctx) => JSON.stringify(change({ ...spec.valid(ctx) })));
}

/** Adds a member before the closing brace of a JSON object text. */
const plus = (json: string, member: string): string =>
  `${json.slice(0, -1)}${json === '{}' ? '' : ','}${member}}`;

function withBadBytes(json: string): Uint8Array {
  const bytes = Buffer.from(json, 'utf8');
  const mark = Buffer.from(MARK, 'utf8');
  const at = bytes.indexOf(mark);
  return Buffer.concat([
    bytes.subarray(0, at),
    Buffer.from(BAD_UTF8),
    bytes.subarray(at + mark.length),
  ]);
}

const nested = (open: string, close: string, depth: number, core = '1'): string =>
  open.repeat(depth) + core + close.repeat(depth);

export function malformedCases(ep: Endpoint, f: Family): Case[] {
  const e = unparsable(f);
  const c = (name: string, edit: (json: string) => string): Case => ({
    name: `malformed JSON: ${name}`,
    build: text(ep, edit),
    expect: e,
  });
  return [
    c('truncated by one character', (j) => j.slice(0, -1)),
    c('truncated in the middle', (j) => j.slice(0, Math.ceil(j.length / 2))),
    c('trailing comma', (j) => `${j.slice(0, -1)},}`),
    c('single quotes', (j) => j.replaceAll('"', "'")),
    c('NaN', (j) => plus(j, '"n":NaN')),
    c('Infinity', (j) => plus(j, '"n":-Infinity')),
    c('hexadecimal number', (j) => plus(j, '"n":0x10')),
    c('unquoted keys', (j) => j.replace(/"(\w+)":/g, '$1:')),
    c('a comment', (j) => `/* note */${j}`),
    c('two documents', (j) => j + j),
    c('raw newline inside a string', (j) => plus(j, '"n":"a\nb"')),
    c('undefined', () => 'undefined'),
    c('a lone brace', () => '{'),
    c('[ unclosed, 100 000 levels deep', () => '['.repeat(100_000)),
    c('{"a": unclosed, 100 000 levels deep', () => '{"a":'.repeat(100_000)),
    { name: 'empty body with a JSON content type', build: text(ep, () => ''), expect: e },
    {
      name: 'whitespace-only body with a JSON content type',
      build: text(ep, () => ' \n\t '),
      expect: e,
    },
  ];
}

export function bodyCases(ep: Endpoint, spec: BodySpec): Case[] {
  const f = ep.family;
  const cases: Case[] = [...malformedCases(ep, f)];
  const shape = f === 'oauth' ? invalid(f) : invalid(f, 'body');
  for (const top of ['[]', '[{}]', '"a string"', '42', 'null', 'true']) {
    cases.push({ name: `top-level ${top}`, build: text(ep, () => top), expect: shape });
  }
  cases.push({
    name: 'top-level array holding the valid body',
    build: text(ep, (j) => `[${j}]`),
    expect: shape,
  });
  for (const [field, role] of Object.entries(spec.fields)) {
    for (const value of WRONG[role]) {
      cases.push({
        name: `${field} = ${JSON.stringify(value)} (wrong type)`,
        build: fields(ep, spec, (v) => ({ ...v, [field]: value })),
        expect: invalid(f, field),
      });
    }
    if (role !== 'flag') {
      const big = role === 'list' ? ['a'.repeat(100_000)] : 'a'.repeat(100_000);
      cases.push({
        name: `${field} of 100 KB`,
        build: fields(ep, spec, (v) => ({ ...v, [field]: big })),
        expect: invalid(f, field),
      });
    }
    if (role !== 'flag' && role !== 'list') {
      const withMark = (v: Record<string, unknown>) => ({
        ...v,
        [field]: `${typeof v[field] === 'string' ? v[field] : 'x'}${MARK}`,
      });
      // Invalid UTF-8 is not JSON text (RFC 8259 §8.1): it must not be decoded into something else.
      cases.push({
        name: `invalid UTF-8 bytes in ${field}`,
        build: text(ep, (_j, ctx) => withBadBytes(JSON.stringify(withMark(spec.valid(ctx))))),
        expect: anyClientError,
      });
    }
    if (role === 'text' || role === 'check' || role === 'token') {
      const nul = (v: Record<string, unknown>) => ({
        ...v,
        [field]: `${typeof v[field] === 'string' ? v[field] : 'x'}\u0000`,
      });
      // A NUL-suffixed value must never match the real one (C-string truncation) nor crash the database.
      cases.push({
        name: `NUL appended to ${field}`,
        build: fields(ep, spec, nul),
        expect: role === 'token' ? tolerant : anyClientError,
      });
    }
  }
  for (const field of spec.required) {
    cases.push({
      name: `${field} missing`,
      build: fields(ep, spec, (v) => ({ ...v, [field]: undefined })),
      expect: spec.missing ?? invalid(f, field),
    });
  }
  cases.push({
    name: 'empty object',
    build: text(ep, () => '{}'),
    expect: spec.missing ?? invalid(f),
  });
  if (spec.patch) {
    // Unknown and privileged members are dropped; what is left is an empty patch.
    cases.push({
      name: 'only unknown or privileged members',
      build: text(ep, () => '{"password_hash":"x","id":"mine","isSuperuser":true,"is_admin":true}'),
      expect: invalid(f),
    });
  }
  cases.push(...hostileCases(ep, spec, f));
  return cases;
}

function hostileCases(ep: Endpoint, spec: BodySpec, f: Family): Case[] {
  const first = Object.keys(spec.fields)[0] ?? 'x';
  return [
    {
      name: 'invalid UTF-8 bytes (unparsable JSON text)',
      build: text(ep, (_j, ctx) =>
        withBadBytes(JSON.stringify({ ...spec.valid(ctx), [first]: `x${MARK}` })),
      ),
      expect: unparsable(f),
    },
    {
      name: '10 000 levels of [',
      build: text(ep, () => nested('[', ']', 10_000)),
      expect: refused(f),
    },
    {
      name: '100 000 levels of [',
      build: text(ep, () => nested('[', ']', 100_000)),
      expect: refused(f),
    },
    {
      name: '10 000 levels of {"a":',
      build: text(ep, () => nested('{"a":', '}', 10_000)),
      expect: refused(f),
    },
    {
      name: '100 000 levels of {"a":',
      build: text(ep, () => nested('{"a":', '}', 100_000)),
      expect: refused(f),
    },
    {
      name: `100 000 levels of [ as ${first}`,
      build: text(ep, (_j, ctx) =>
        JSON.stringify({ ...spec.valid(ctx), [first]: MARK }).replace(
          `"${MARK}"`,
          nested('[', ']', 100_000, '"x"'),
        ),
      ),
      expect: refused(f),
    },
    {
      name: '100 000 levels of {"a": beside the valid members',
      build: text(ep, (j) => plus(j, `"a":${nested('{"a":', '}', 100_000)}`)),
      expect: refused(f),
    },
    {
      name: '__proto__ member',
      build: text(
        ep,
        (j) =>
          `{"__proto__":{"is_superuser":true,"isSuperuser":true,"scopes":["admin"]},${j.slice(1)}`,
      ),
      expect: refused(f),
    },
    {
      name: 'constructor.prototype member',
      build: text(
        ep,
        (j) =>
          `{"constructor":{"prototype":{"is_superuser":true,"isSuperuser":true}},${j.slice(1)}`,
      ),
      expect: refused(f),
    },
  ];
}

/** Bodies over the 1 MiB limit: 413 whether or not Content-Length announces them. */
export function sizeCases(ep: Endpoint, f: Family): Case[] {
  const e = tooLarge(f);
  const padTo = (json: string, size: number): string => {
    const head = plus(json, '"pad":"');
    return `${head}${'a'.repeat(size - Buffer.byteLength(head) - 2)}"}`;
  };
  const base = (ctx: Ctx): string => String(baseReq(ep, ctx).body ?? '{}');
  const with_ = (ctx: Ctx, body: string): Req => ({
    ...baseReq(ep, ctx),
    contentType: 'application/json',
    body,
  });
  return [
    {
      name: 'a body of 1 MiB + 1 byte',
      build: (ctx) => with_(ctx, padTo(base(ctx), MIB + 1)),
      expect: e,
    },
    {
      name: 'a body of 5 MB',
      build: (ctx) => with_(ctx, padTo(base(ctx), 5 * 1000 * 1000)),
      expect: e,
    },
    {
      name: 'a body of 5 MB, chunked without Content-Length',
      build: (ctx) => ({ ...with_(ctx, ' '.repeat(64 * 1024)), repeat: 80 }),
      expect: e,
    },
  ];
}
