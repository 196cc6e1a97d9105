// Request builders: the endpoint's valid request with its body replaced or edited.
import type { Ctx } from './context.ts';
import { type BodySpec, baseReq, type Endpoint } from './endpoints.ts';
import type { Req } from './send.ts';

/** U+E000 marks where invalid bytes go once the JSON text is encoded. */
export const MARK = '\uE000';
const BAD_UTF8 = [0xff, 0xfe, 0xc3, 0x28];

/** The valid JSON text with `edit` applied to its text. */
export function text(
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
export function fields(
  ep: Endpoint,
  spec: BodySpec,
  change: (valid: Record<string, unknown>) => Record<string, unknown>,
): (ctx: Ctx) => Req {
  return text(ep, (_json, ctx) => JSON.stringify(change({ ...spec.valid(ctx) })));
}

/** Adds a member before the closing brace of a JSON object text. */
export const plus = (json: string, member: string): string =>
  `${json.slice(0, -1)}${json === '{}' ? '' : ','}${member}}`;

export function withBadBytes(json: string): Uint8Array {
  const bytes = Buffer.from(json, 'utf8');
  const mark = Buffer.from(MARK, 'utf8');
  const at = bytes.indexOf(mark);
  return Buffer.concat([
    bytes.subarray(0, at),
    Buffer.from(BAD_UTF8),
    bytes.subarray(at + mark.length),
  ]);
}

export const nested = (open: string, close: string, depth: number, core = '1'): string =>
  open.repeat(depth) + core + close.repeat(depth);

export const FORM = 'application/x-www-form-urlencoded';

export function formOf(values: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v));
  }
  return params.toString();
}

export function withBody(
  ep: Endpoint,
  contentType: string | undefined,
  body: (ctx: Ctx) => string | Uint8Array,
): (ctx: Ctx) => Req {
  return (ctx) => ({ ...baseReq(ep, ctx), contentType, body: body(ctx) });
}
