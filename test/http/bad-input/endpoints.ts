// The table: every endpoint that takes input, its body fields, who calls it and its valid request.
import { newIdentity } from '../../support/http.ts';
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

const tokenFields = {
  token: 'token',
  token_type_hint: 'opaque',
  client_id: 'opaque',
  client_secret: 'opaque',
} as const;
const passwordGrant = {
  grant_type: 'text',
  username: 'text',
  password: 'check',
  scope: 'text',
  client_id: 'text',
  client_secret: 'opaque',
} as const;

export const ENDPOINTS: readonly Endpoint[] = [
  {
    name: 'POST /register',
    method: 'POST',
    path: () => '/register',
    family: 'problem',
    auth: 'none',
    body: {
      fields: { email: 'text', username: 'text', password: 'opaque' },
      required: ['email', 'username', 'password'],
      valid: () => newIdentity('badreg'),
    },
    control: { status: 201, changes: true },
  },
  {
    name: 'POST /token (password grant)',
    method: 'POST',
    path: () => '/token',
    family: 'oauth',
    auth: 'none',
    body: {
      fields: passwordGrant,
      required: ['username', 'password'],
      valid: (c) => ({
        grant_type: 'password',
        username: c.actor.username,
        password: c.actor.password,
      }),
    },
    control: { status: 200, changes: true },
  },
  {
    name: 'POST /token (refresh_token grant)',
    method: 'POST',
    path: () => '/token',
    family: 'oauth',
    auth: 'none',
    body: {
      fields: { grant_type: 'text', refresh_token: 'token', scope: 'text' },
      required: ['grant_type', 'refresh_token'],
      valid: (c) => ({ grant_type: 'refresh_token', refresh_token: c.spare.refresh_token }),
    },
    control: { status: 200, changes: true },
  },
  {
    name: 'POST /refresh',
    method: 'POST',
    path: () => '/refresh',
    family: 'problem',
    auth: 'none',
    // The token may come from the cookie instead, so a missing one is a bad request or a failed authentication.
    body: {
      fields: { refresh_token: 'token' },
      required: ['refresh_token'],
      valid: (c) => ({ refresh_token: c.spare.refresh_token }),
      missing: { status: [400, 401, 422] },
    },
    control: { status: 200, changes: true },
  },
  {
    name: 'POST /logout',
    method: 'POST',
    path: () => '/logout',
    family: 'problem',
    auth: 'user',
    bodyless: true,
    control: { status: 204, changes: true },
  },
  {
    name: 'POST /revoke',
    method: 'POST',
    path: () => '/revoke',
    family: 'oauth',
    auth: 'none',
    body: {
      fields: tokenFields,
      required: ['token'],
      valid: (c) => ({ token: c.spare.refresh_token }),
    },
    control: { status: 200, changes: true },
  },
  {
    name: 'POST /introspect',
    method: 'POST',
    path: () => '/introspect',
    family: 'oauth',
    auth: 'admin',
    body: {
      fields: tokenFields,
      required: ['token'],
      valid: (c) => ({ token: c.spare.access_token }),
    },
    control: { status: 200, changes: false },
  },
  {
    name: 'GET /users/me',
    method: 'GET',
    path: () => '/users/me',
    family: 'problem',
    auth: 'user',
    control: { status: 200, changes: false },
  },
  {
    name: 'PATCH /users/me',
    method: 'PATCH',
    path: () => '/users/me',
    family: 'problem',
    auth: 'user',
    body: {
      fields: { email: 'text', username: 'text' },
      required: [],
      patch: true,
      valid: () => {
        const who = newIdentity('badpatch');
        return { email: who.email, username: who.username };
      },
    },
    control: { status: 200, changes: true },
  },
  {
    name: 'DELETE /users/me',
    method: 'DELETE',
    path: () => '/users/me',
    family: 'problem',
    auth: 'user',
    body: {
      fields: { password: 'check' },
      required: ['password'],
      valid: (c) => ({ password: c.actor.password }),
    },
    control: { status: 204, changes: true },
  },
  {
    name: 'POST /users/me/password',
    method: 'POST',
    path: () => '/users/me/password',
    family: 'problem',
    auth: 'user',
    body: {
      fields: { current_password: 'check', new_password: 'opaque' },
      required: ['current_password', 'new_password'],
      valid: (c) => ({
        current_password: c.actor.password,
        new_password: `another ${c.actor.password} entirely`,
      }),
    },
    control: { status: 204, changes: true },
  },
  {
    name: 'GET /users/me/sessions',
    method: 'GET',
    path: () => '/users/me/sessions',
    family: 'problem',
    auth: 'user',
    control: { status: 200, changes: false },
  },
  {
    name: 'DELETE /users/me/sessions',
    method: 'DELETE',
    path: () => '/users/me/sessions',
    family: 'problem',
    auth: 'user',
    bodyless: true,
    control: { status: 204, changes: true },
  },
  {
    name: 'DELETE /users/me/sessions/{id}',
    method: 'DELETE',
    path: (c) => `/users/me/sessions/${c.spareSid}`,
    family: 'problem',
    auth: 'user',
    bodyless: true,
    param: { real: (c) => c.spareSid, path: (v) => `/users/me/sessions/${v}` },
    control: { status: 204, changes: true },
  },
  {
    name: 'GET /users/{username}',
    method: 'GET',
    path: (c) => `/users/${c.actor.username}`,
    family: 'problem',
    auth: 'user',
    param: { real: (c) => c.actor.username, path: (v) => `/users/${v}` },
    control: { status: 200, changes: false },
  },
  {
    name: 'GET /admin/users',
    method: 'GET',
    path: () => '/admin/users',
    family: 'problem',
    auth: 'admin',
    query: true,
    control: { status: 200, changes: false, query: 'limit=5' },
  },
  {
    name: 'PATCH /admin/users/{id}',
    method: 'PATCH',
    path: (c) => `/admin/users/${c.target.id}`,
    family: 'problem',
    auth: 'admin',
    body: {
      fields: { is_active: 'flag', is_superuser: 'flag', is_verified: 'flag', scopes: 'list' },
      required: [],
      patch: true,
      valid: () => ({ is_active: true, is_superuser: false, is_verified: true, scopes: ['read'] }),
    },
    param: { real: (c) => c.target.id, path: (v) => `/admin/users/${v}` },
    control: { status: 200, changes: true },
  },
  {
    name: 'DELETE /admin/users/{id}',
    method: 'DELETE',
    path: (c) => `/admin/users/${c.target.id}`,
    family: 'problem',
    auth: 'admin',
    bodyless: true,
    param: { real: (c) => c.target.id, path: (v) => `/admin/users/${v}` },
    control: { status: 204, changes: true },
  },
];
