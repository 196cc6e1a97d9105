// Form-encoded bad input for the OAuth endpoints (their standard content type).
import { FORM, formOf, withBody } from './build.ts';
import type { Ctx } from './context.ts';
import type { BodySpec, Case, Endpoint } from './endpoints.ts';
import { anyClientError, invalid, tolerant, tooLarge } from './expect.ts';

export function formCases(ep: Endpoint, spec: BodySpec): Case[] {
  const f = ep.family;
  const e = invalid(f);
  const form = (change: (v: Record<string, unknown>) => Record<string, unknown>) =>
    withBody(ep, FORM, (ctx) => formOf(change(spec.valid(ctx))));
  const raw = (body: (ctx: Ctx) => string) => withBody(ep, FORM, body);
  const cases: Case[] = [
    { name: 'form: empty body', build: raw(() => ''), expect: e },
    { name: 'form: only separators', build: raw(() => '&&=&==&'), expect: e },
    {
      name: 'form: a body of 5 MB',
      build: raw((ctx) => `${formOf(spec.valid(ctx))}&pad=${'a'.repeat(5_000_000)}`),
      expect: tooLarge(f),
    },
  ];
  for (const field of spec.required) {
    cases.push({
      name: `form: ${field} missing`,
      build: form((v) => ({ ...v, [field]: [] })),
      expect: e,
    });
    cases.push({
      name: `form: ${field}[] instead of ${field}`,
      build: raw((ctx) => formOf({ ...spec.valid(ctx), [field]: [] }).concat(`&${field}%5B%5D=x`)),
      expect: e,
    });
  }
  for (const [field, role] of Object.entries(spec.fields)) {
    const value = (v: Record<string, unknown>): string =>
      typeof v[field] === 'string' ? String(v[field]) : 'x';
    // Parameter pollution: a repeated parameter is ambiguous, never "the first" or "the last".
    cases.push({
      name: `form: ${field} given twice`,
      build: form((v) => ({ ...v, [field]: [value(v), value(v)] })),
      expect: e,
    });
    cases.push({
      name: `form: ${field} of 100 KB`,
      build: form((v) => ({ ...v, [field]: 'a'.repeat(100_000) })),
      expect: e,
    });
    if (role === 'opaque') continue;
    const soft = role === 'token' ? tolerant : anyClientError;
    // The valid value with raw (already percent-encoded) bytes appended.
    const suffixed = (suffix: string) =>
      raw((ctx) => {
        const valid = spec.valid(ctx);
        const rest = formOf({ ...valid, [field]: [] });
        return `${rest}&${field}=${encodeURIComponent(value(valid))}${suffix}`;
      });
    cases.push({ name: `form: NUL appended to ${field}`, build: suffixed('%00'), expect: soft });
    cases.push({
      name: `form: invalid UTF-8 (%FF) appended to ${field}`,
      build: suffixed('%FF%C3%28'),
      expect: soft,
    });
  }
  return cases;
}
