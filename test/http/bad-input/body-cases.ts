// Bad JSON bodies: each is the endpoint's valid body with one thing broken, so that a server which
// wrongly accepted it would act (and the store snapshot would see it).
import { fields, MARK, plus, text, withBadBytes } from './build.ts';
import type { BodySpec, Case, Endpoint, Role } from './endpoints.ts';
import { anyClientError, type Family, invalid, tolerant, unparsable } from './expect.ts';
import { hostileCases } from './hostile-cases.ts';

/** Values of the wrong JSON type for each kind of field. */
const WRONG: Record<Role, readonly unknown[]> = {
  text: [42, true, ['x'], { x: 'y' }, null],
  check: [42, true, ['x'], { x: 'y' }, null],
  token: [42, true, ['x'], { x: 'y' }, null],
  opaque: [42, true, ['x'], { x: 'y' }, null],
  flag: ['true', 1, [true], { x: true }, null],
  list: ['read', 1, true, { 0: 'read' }, null, [1], [null], [['read']]],
};

/** Unparsable JSON: 400 (SPEC §4). Also used for endpoints without a body. */
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
