// Hostile JSON bodies: invalid UTF-8, deep nesting, prototype poisoning, and bodies over the limit.
import { MARK, nested, text, withBadBytes } from './build.ts';
import type { Ctx } from './context.ts';
import { type BodySpec, baseReq, type Case, type Endpoint } from './endpoints.ts';
import { type Family, refused, tooLarge, unparsable } from './expect.ts';
import type { Req } from './send.ts';

const MIB = 1024 * 1024;

export function hostileCases(ep: Endpoint, spec: BodySpec, f: Family): Case[] {
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
  // A valid JSON object of exactly `size` bytes: only its size is wrong.
  const padTo = (json: string, size: number): string => {
    const head = `${json.slice(0, -1)}${json === '{}' ? '' : ','}"pad":"`;
    return `${head}${'a'.repeat(size - Buffer.byteLength(head) - 2)}"}`;
  };
  const base = (ctx: Ctx): string => String(baseReq(ep, ctx).body ?? '{}');
  const sized = (ctx: Ctx, body: string): Req => ({
    ...baseReq(ep, ctx),
    contentType: 'application/json',
    body,
  });
  return [
    {
      name: 'a body of 1 MiB + 1 byte',
      build: (ctx) => sized(ctx, padTo(base(ctx), MIB + 1)),
      expect: e,
    },
    {
      name: 'a body of 5 MB',
      build: (ctx) => sized(ctx, padTo(base(ctx), 5 * 1000 * 1000)),
      expect: e,
    },
    {
      name: 'a body of 5 MB, chunked without Content-Length',
      build: (ctx) => ({ ...sized(ctx, ' '.repeat(64 * 1024)), repeat: 80 }),
      expect: e,
    },
  ];
}
