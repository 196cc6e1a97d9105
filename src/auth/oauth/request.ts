// An authorization request (GET or POST /authorize), checked in the order RFC 6749 §4.1.2.1 asks:
// the client and the redirect URI first — until both are trusted nothing is sent anywhere, the user
// sees an error page — then everything else, whose errors go back to the app's redirect URI.
import type { Client } from '../clients/index.ts';
import type { Uses } from '../services.ts';
import { OIDC_SCOPES } from '../sessions/index.ts';
import { matchRedirectUri } from './redirect-uris.ts';

export type Prompt = 'none' | 'login' | 'consent';

/** A request whose client and redirect URI are trusted and whose parameters are well-formed. */
export interface AuthorizationRequest {
  client: Client;
  /** Where the answer goes. */
  redirectUri: string;
  /** The redirect_uri as sent, or null when it was omitted (the exchange must then omit it too). */
  sentRedirectUri: string | null;
  state: string | undefined;
  /** Requested scopes, de-duplicated, in request order. */
  scopes: string[];
  codeChallenge: string;
  nonce: string | undefined;
  prompt: Set<Prompt>;
  maxAgeSeconds: number | undefined;
  loginHint: string | undefined;
  /** Not before this time (seconds): a sign-in asked for by prompt=login must be newer. */
  authAfter: number | undefined;
}

/** Shown as a page, never redirected: the client or its redirect URI cannot be trusted. */
export interface UntrustedRequest {
  kind: 'page';
  title: string;
  detail: string;
}

/** Sent to the trusted redirect URI as error, error_description, state and iss. */
export interface RedirectedError {
  kind: 'redirect';
  redirectUri: string;
  state: string | undefined;
  error: string;
  description: string;
}

export type Checked =
  | { kind: 'ok'; request: AuthorizationRequest }
  | UntrustedRequest
  | RedirectedError;

export type RawParams = Record<string, unknown>;

// RFC 7636 §4.2: BASE64URL(SHA-256(verifier)) is 43 characters; nothing else is an S256 challenge.
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/;
const PROMPTS = new Set<Prompt>(['none', 'login', 'consent']);
const LIMITS = { state: 2048, nonce: 512, login_hint: 320, scope: 2048, redirect_uri: 2000 };

const page = (title: string, detail: string): UntrustedRequest => ({ kind: 'page', title, detail });

/** Checks the parameters of /authorize (query or form). */
export async function checkAuthorizationRequest(
  s: Uses<'store'>,
  params: RawParams,
): Promise<Checked> {
  // A parameter given twice (RFC 6749 §3.1) is ambiguous: which value would the app have meant?
  const repeated = Object.keys(params).find((k) => Array.isArray(params[k]));
  if (repeated !== undefined) {
    return page(
      'This sign-in link is not valid',
      `The parameter "${repeated.slice(0, 40)}" is given more than once.`,
    );
  }
  const p = params as Record<string, string | undefined>;
  const clientId = p.client_id;
  if (clientId === undefined || clientId === '' || clientId.length > 128) {
    return page('This sign-in link is not valid', 'It names no application (client_id).');
  }
  const client = await s.store.clients.findById(clientId);
  if (!client) {
    return page('Unknown application', 'The application that sent you here is not registered.');
  }
  let redirectUri: string | undefined;
  const sent = p.redirect_uri;
  if (sent === undefined || sent === '') {
    // Omitted only when there is exactly one to mean (OAuth 2.1 §4.1.1).
    if (client.redirectUris.length === 1) redirectUri = client.redirectUris[0];
  } else if (sent.length <= LIMITS.redirect_uri) {
    redirectUri = matchRedirectUri(client.redirectUris, sent);
  }
  if (redirectUri === undefined) {
    return page(
      'This sign-in link is not valid',
      `The address to return to is not one registered for ${client.name}.`,
    );
  }

  const state = p.state;
  const fail = (error: string, description: string): RedirectedError => ({
    kind: 'redirect',
    redirectUri: redirectUri as string,
    state: state !== undefined && state.length <= LIMITS.state ? state : undefined,
    error,
    description,
  });
  if (state !== undefined && state.length > LIMITS.state)
    return fail('invalid_request', 'state is too long.');
  // OpenID Connect request objects are not supported (their own error codes, Core §3.1.2.6).
  if (p.request !== undefined)
    return fail('request_not_supported', 'Request objects are not supported.');
  if (p.request_uri !== undefined) {
    return fail('request_uri_not_supported', 'request_uri is not supported.');
  }
  if (p.response_type === undefined || p.response_type === '') {
    return fail('invalid_request', 'response_type is required.');
  }
  // Only the code flow: the implicit and hybrid flows put tokens in the URL (OAuth 2.1 drops them).
  if (p.response_type !== 'code') {
    return fail('unsupported_response_type', 'Only response_type=code is supported.');
  }
  if (p.response_mode !== undefined && p.response_mode !== 'query') {
    return fail('invalid_request', 'Only response_mode=query is supported.');
  }
  if (!client.grantTypes.includes('authorization_code')) {
    return fail('unauthorized_client', 'This client may not use the authorization code flow.');
  }
  // PKCE for every client, S256 only (OAuth 2.1 §4.1.1; plain would let a stolen request redeem).
  if (p.code_challenge === undefined || p.code_challenge === '') {
    return fail('invalid_request', 'code_challenge is required (PKCE with S256).');
  }
  if (p.code_challenge_method !== 'S256') {
    return fail('invalid_request', 'code_challenge_method must be S256.');
  }
  if (!S256_CHALLENGE.test(p.code_challenge)) {
    return fail('invalid_request', 'code_challenge is not an S256 challenge.');
  }
  for (const name of ['nonce', 'login_hint', 'scope'] as const) {
    const value = p[name];
    if (value !== undefined && value.length > LIMITS[name]) {
      return fail('invalid_request', `${name} is too long.`);
    }
  }
  const scopes = [...new Set((p.scope ?? '').split(' ').filter(Boolean))];
  if (scopes.some((x) => !SCOPE_TOKEN.test(x))) return fail('invalid_scope', 'scope is malformed.');
  // Within the client's registration; the user's own rights are checked once the user is known.
  const beyond = scopes.filter((x) => !client.scope.includes(x));
  if (beyond.length > 0) {
    return fail('invalid_scope', `Not allowed for this client: ${beyond.join(' ').slice(0, 200)}.`);
  }
  const prompt = new Set<Prompt>();
  for (const value of (p.prompt ?? '').split(' ').filter(Boolean)) {
    if (!PROMPTS.has(value as Prompt))
      return fail('invalid_request', `Unknown prompt "${value.slice(0, 20)}".`);
    prompt.add(value as Prompt);
  }
  if (prompt.has('none') && prompt.size > 1) {
    return fail('invalid_request', 'prompt=none cannot be combined with other values.');
  }
  let maxAgeSeconds: number | undefined;
  if (p.max_age !== undefined) {
    if (!/^\d{1,9}$/.test(p.max_age))
      return fail('invalid_request', 'max_age must be a whole number of seconds.');
    maxAgeSeconds = Number(p.max_age);
  }
  let authAfter: number | undefined;
  if (p.auth_after !== undefined) {
    if (!/^\d{1,12}$/.test(p.auth_after))
      return fail('invalid_request', 'auth_after is malformed.');
    authAfter = Number(p.auth_after);
  }
  return {
    kind: 'ok',
    request: {
      client,
      redirectUri,
      sentRedirectUri: sent === undefined || sent === '' ? null : sent,
      state,
      scopes,
      codeChallenge: p.code_challenge,
      nonce: p.nonce === '' ? undefined : p.nonce,
      prompt,
      maxAgeSeconds,
      loginHint: p.login_hint,
      authAfter,
    },
  };
}

/** The scopes that are API rights (not OpenID Connect's), which the user must hold. */
export function apiScopes(scopes: readonly string[]): string[] {
  return scopes.filter((x) => !OIDC_SCOPES.includes(x));
}

/** The request's parameters as they are carried through the sign-in page and the consent form. */
export function requestFields(request: AuthorizationRequest): Record<string, string> {
  const fields: Record<string, string> = {
    response_type: 'code',
    client_id: request.client.clientId,
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
  };
  if (request.sentRedirectUri !== null) fields.redirect_uri = request.sentRedirectUri;
  if (request.scopes.length > 0) fields.scope = request.scopes.join(' ');
  if (request.state !== undefined) fields.state = request.state;
  if (request.nonce !== undefined) fields.nonce = request.nonce;
  if (request.maxAgeSeconds !== undefined) fields.max_age = String(request.maxAgeSeconds);
  if (request.loginHint !== undefined) fields.login_hint = request.loginHint;
  if (request.authAfter !== undefined) fields.auth_after = String(request.authAfter);
  return fields;
}
