// What the table says about an endpoint, what a case is, and the valid request every case breaks.
import type { Ctx } from './context.ts';
import type { Expect, Family } from './expect.ts';
import type { Req } from './send.ts';

/**
 * How a string field may be attacked: `text` and `check` (a password verified against the stored
 * one) must refuse a NUL; `token` may answer an unknown token with 200 (RFC 7009); `opaque` (a new
 * password, a hint or a client field the endpoint may ignore) gets no NUL case.
 */
export type Role = 'text' | 'check' | 'token' | 'opaque' | 'flag' | 'list';

export interface BodySpec {
  fields: Record<string, Role>;
  required: readonly string[];
  /** A body that succeeds: every bad case is this body with one thing broken. */
  valid(ctx: Ctx): Record<string, unknown>;
  /** An empty patch must be refused (minProperties 1). */
  patch?: boolean;
  /** The answer to a missing required field where the SPEC leaves it open. */
  missing?: Expect;
}

export interface Endpoint {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path(ctx: Ctx): string;
  family: Family;
  auth: 'none' | 'user' | 'admin';
  /** A JSON body (form-encoded too on the OAuth endpoints). */
  body?: BodySpec;
  /** POST/DELETE without a body: only unparsable bodies are checked (a parsable one is ignored). */
  bodyless?: boolean;
  /** The path parameter: its real value, and the path built around any value. */
  param?: { real(ctx: Ctx): string; path(value: string): string };
  query?: boolean;
  control: { status: number; changes: boolean; query?: string };
}

export interface Case {
  name: string;
  build(ctx: Ctx): Req;
  expect: Expect;
}

export function authorization(ep: Endpoint, ctx: Ctx): string | null {
  if (ep.auth === 'none') return null;
  return `Bearer ${(ep.auth === 'admin' ? ctx.admin : ctx.actor).tokens.access_token}`;
}

/** The endpoint's valid request; `body` defaults to the valid JSON body. */
export function baseReq(ep: Endpoint, ctx: Ctx): Req {
  const req: Req = { method: ep.method, path: ep.path(ctx), authorization: authorization(ep, ctx) };
  if (ep.body) {
    req.contentType = 'application/json';
    req.body = JSON.stringify(ep.body.valid(ctx));
  }
  return req;
}
