// Passkeys (SPEC §10): the WebAuthn ceremonies (options, then the browser's answer) for adding a
// passkey and for signing in with one, and the signed-in user's list of passkeys.
// HTTP only: parse, call the rules, shape the answer.
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { activeUser } from '../../auth/accounts/index.ts';
import {
  finishRegistration,
  isBrowserBinding,
  listPasskeys,
  MAX_NAME_LENGTH,
  newBrowserBinding,
  registrationOptions,
  removePasskey,
  renamePasskey,
  signInOptions,
  signInWithPasskey,
} from '../../auth/passkeys/index.ts';
import { endReplacedSession } from '../../auth/sessions/index.ts';
import { callerOf, clientInfo } from '../authenticate.ts';
import { COOKIE, cookieOf, setWebauthnBinding } from '../cookies.ts';
import { createCsrfTokens, requireSameOrigin } from '../csrf.ts';
import { route } from '../route.ts';
import { errorResponses, object, ref, str } from '../schemas.ts';
import { requireJson, sendSession } from './browser.ts';

const tags = ['passkeys'];
const security = [{ oauth2: [] }];
const noContent = { 204: { type: 'null', description: 'Done.' } };

// What the browser's PublicKeyCredential serialises to (toJSON(), or @simplewebauthn/browser).
// Lengths bound the work; the library checks everything else and answers 400 on the rest.
const b64url = (max: number) => ({
  type: 'string',
  minLength: 1,
  maxLength: max,
  pattern: '^[A-Za-z0-9_-]+={0,2}$',
});
const credentialBase = {
  id: b64url(1400),
  rawId: b64url(1400),
  type: { type: 'string', const: 'public-key' },
  authenticatorAttachment: { type: 'string', maxLength: 32 },
  clientExtensionResults: { type: 'object' },
};
const registrationResponse = {
  type: 'object',
  required: ['id', 'rawId', 'type', 'response', 'clientExtensionResults'],
  properties: {
    ...credentialBase,
    response: {
      type: 'object',
      required: ['clientDataJSON', 'attestationObject'],
      properties: {
        clientDataJSON: b64url(8192),
        attestationObject: b64url(65_536),
        authenticatorData: b64url(16_384),
        transports: { type: 'array', maxItems: 8, items: str(32) },
        publicKeyAlgorithm: { type: 'integer' },
        publicKey: b64url(8192),
      },
    },
  },
} as const;
const authenticationResponse = {
  type: 'object',
  required: ['id', 'rawId', 'type', 'response', 'clientExtensionResults'],
  properties: {
    ...credentialBase,
    response: {
      type: 'object',
      required: ['clientDataJSON', 'authenticatorData', 'signature'],
      properties: {
        clientDataJSON: b64url(8192),
        authenticatorData: b64url(16_384),
        signature: b64url(1024),
        userHandle: { type: 'string', maxLength: 128, pattern: '^[A-Za-z0-9_-]*={0,2}$' },
      },
    },
  },
} as const;
const passkeySchema = object(['id', 'name', 'created_at', 'last_used_at'], {
  id: { type: 'string' },
  name: { type: 'string' },
  created_at: { type: 'string', format: 'date-time' },
  last_used_at: { type: ['string', 'null'], format: 'date-time' },
});
const optionsSchema = (what: string) => ({
  type: 'object',
  additionalProperties: true,
  description: `${what}: pass it to navigator.credentials (or @simplewebauthn/browser) as is.`,
});

/** The browser's binding id: the one it holds, or a new one set in its cookie. */
function bindingFor(request: FastifyRequest, reply: FastifyReply): string {
  const held = cookieOf(request, COOKIE.webauthn);
  // Kept when valid, so that two ceremonies started in one browser (autofill and the button) both work.
  const binding = isBrowserBinding(held) ? held : newBrowserBinding();
  setWebauthnBinding(reply, binding);
  return binding;
}

export const registerOptions = route({
  schema: {
    tags,
    summary: 'Start adding a passkey: PublicKeyCredentialCreationOptionsJSON',
    description:
      'The challenge is valid 5 minutes, once, in this browser only (an HttpOnly cookie binds it).',
    security,
    response: {
      200: optionsSchema('PublicKeyCredentialCreationOptionsJSON'),
      ...errorResponses([401, 403, 404, 429]),
    },
  },
  handler: (s) => async (request, reply) => {
    const user = await activeUser(s, callerOf(request).userId);
    const options = await registrationOptions(s, user, bindingFor(request, reply));
    return reply.header('cache-control', 'no-store').send(options);
  },
});

export const register = route<{ Body: { response: RegistrationResponseJSON; name?: string } }>({
  schema: {
    tags,
    summary: 'Finish adding a passkey with the browser’s answer',
    security,
    body: object(['response'], { response: registrationResponse, name: str(MAX_NAME_LENGTH * 2) }),
    response: { 201: passkeySchema, ...errorResponses([400, 401, 403, 404, 409, 422, 429]) },
  },
  handler: (s) => async (request, reply) => {
    const user = await activeUser(s, callerOf(request).userId);
    const added = await finishRegistration(
      s,
      user,
      cookieOf(request, COOKIE.webauthn),
      request.body,
    );
    return reply.code(201).send(added);
  },
});

export const loginOptions = route({
  schema: {
    tags,
    summary: 'Start a passkey sign-in: PublicKeyCredentialRequestOptionsJSON (no account named)',
    description:
      'For discoverable passkeys: the browser offers its passkeys for this site (also in autofill, with `mediation: "conditional"`).',
    response: {
      200: optionsSchema('PublicKeyCredentialRequestOptionsJSON'),
      ...errorResponses([403, 404, 429]),
    },
  },
  handler: (s) => async (request, reply) => {
    // A cross-site page could not finish the ceremony (the origin is checked), but it gets nothing here.
    requireSameOrigin(request, s.config);
    const options = await signInOptions(s, bindingFor(request, reply));
    return reply.header('cache-control', 'no-store').send(options);
  },
});

export const login = route<{ Body: { response: AuthenticationResponseJSON } }>({
  preValidation: requireJson,
  schema: {
    tags,
    summary: 'Finish a passkey sign-in: sets the session cookies as POST /login does',
    description:
      'A passkey is a full sign-in (possession and user verification): no TOTP code is asked.',
    body: object(['response'], { response: authenticationResponse }),
    response: { 200: ref('BrowserSession'), ...errorResponses([400, 403, 404, 415, 422, 429]) },
  },
  handler: (s) => {
    const csrf = createCsrfTokens(s.secrets);
    return async (request, reply) => {
      // As POST /login: no CSRF token exists yet; Origin and Fetch Metadata stop a cross-site login.
      requireSameOrigin(request, s.config);
      const previous = cookieOf(request, COOKIE.refresh);
      const client = clientInfo(request, s.config.defaultClientId);
      const binding = cookieOf(request, COOKIE.webauthn);
      const result = await signInWithPasskey(s, binding, request.body.response, client);
      // One browser, one session: the session its old cookies belonged to ends with this sign-in.
      if (previous !== undefined) await endReplacedSession(s, previous);
      return sendSession(s, reply, result, csrf.mint(result.sessionId));
    };
  },
});

export const list = route({
  schema: {
    tags,
    summary: 'Your passkeys, with their last use',
    security,
    response: { 200: { type: 'array', items: passkeySchema }, ...errorResponses([401]) },
  },
  handler: (s) => async (request) => listPasskeys(s, await activeUser(s, callerOf(request).userId)),
});

export const rename = route<{ Params: { id: string }; Body: { name: string } }>({
  schema: {
    tags,
    summary: 'Rename a passkey',
    security,
    params: object(['id'], { id: str(64) }),
    body: object(['name'], { name: str(MAX_NAME_LENGTH * 2) }),
    response: { 200: passkeySchema, ...errorResponses([401, 403, 404, 422]) },
  },
  handler: (s) => async (request) => {
    const user = await activeUser(s, callerOf(request).userId);
    return renamePasskey(s, user, request.params.id, request.body.name);
  },
});

export const remove = route<{ Params: { id: string } }>({
  schema: {
    tags,
    summary: 'Remove a passkey',
    security,
    params: object(['id'], { id: str(64) }),
    response: { ...noContent, ...errorResponses([401, 403, 404, 409]) },
  },
  handler: (s) => async (request, reply) => {
    await removePasskey(s, await activeUser(s, callerOf(request).userId), request.params.id);
    return reply.code(204).send();
  },
});
