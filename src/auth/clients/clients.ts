// The OAuth client registry: registering, changing and deleting the apps that sign users in
// through Portcullis, and their secrets (returned once, stored only as a hash).
import { createHash } from 'node:crypto';
import { constantTimeEqual, randomToken } from '../../crypto/random.ts';
import { AppError, type FieldError, notFound, ValidationError } from '../../errors/index.ts';
import type { Client, ClientPatch, Store } from '../../store/index.ts';
import { recordAudit } from '../audit/index.ts';
import type { Uses } from '../services.ts';
import { clientSessionId, endSessionsIn, OIDC_SCOPES } from '../sessions/index.ts';

export type { Client };

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export const AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'] as const;
export const ID_TOKEN_ALGS = ['RS256', 'ES256'] as const;

const MAX_NAME = 100;
const MAX_URI = 2000;
const MAX_URIS = 20;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
const SECRET_PREFIX = 'sha256:';

/** What a superuser sends to register a client (the API's snake_case fields). */
export interface ClientInput {
  name: string;
  redirect_uris?: string[] | undefined;
  post_logout_redirect_uris?: string[] | undefined;
  grant_types?: string[] | undefined;
  /** Space-delimited. */
  scope?: string | undefined;
  token_endpoint_auth_method?: string | undefined;
  id_token_signed_response_alg?: string | undefined;
  first_party?: boolean | undefined;
}

export type ClientPatchInput = Partial<ClientInput>;

/**
 * A random client_id that never starts with '-' or '_': one starting with '-' reads as an option
 * on a command line (`portcullis client show -8x…` failed on such an id).
 */
function newClientId(): string {
  for (;;) {
    const id = randomToken(16);
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

export function isConfidential(client: Pick<Client, 'tokenEndpointAuthMethod'>): boolean {
  return client.tokenEndpointAuthMethod !== 'none';
}

/** Registers a client; a confidential one comes back with its secret, which is never shown again. */
export async function createClient(
  s: Uses<'clock' | 'store', 'scopes' | 'defaultScopes'>,
  input: ClientInput,
  actorId: string | null = null,
): Promise<{ client: Client; clientSecret?: string }> {
  const method = input.token_endpoint_auth_method ?? 'none';
  const fields = checkFields(s, {
    name: input.name,
    redirectUris: input.redirect_uris ?? [],
    postLogoutRedirectUris: input.post_logout_redirect_uris ?? [],
    grantTypes: input.grant_types ?? ['authorization_code', 'refresh_token'],
    scope:
      input.scope === undefined
        ? [...OIDC_SCOPES, ...s.config.defaultScopes]
        : input.scope.split(' ').filter(Boolean),
    tokenEndpointAuthMethod: method,
    idTokenSignedResponseAlg: input.id_token_signed_response_alg ?? 'RS256',
    firstParty: input.first_party ?? false,
  });
  const clientSecret = method === 'none' ? undefined : randomToken(32);
  const now = s.clock();
  const client = await s.store.transaction(async (tx) => {
    const created = await tx.clients.create({
      ...fields,
      // 128 random bits: not a secret, but not guessable or enumerable either.
      clientId: newClientId(),
      secretHash: clientSecret === undefined ? null : hashSecret(clientSecret),
      createdAt: now,
    });
    await recordAudit(tx, {
      type: 'client.create',
      actorId,
      subjectId: created.clientId,
      at: now,
      details: auditDetails(created),
    });
    return created;
  });
  return clientSecret === undefined ? { client } : { client, clientSecret };
}

export async function getClient(s: Uses<'store'>, clientId: string): Promise<Client> {
  const client = await s.store.clients.findById(clientId);
  if (!client) throw notFound('Client');
  return client;
}

/** A page of clients in client_id order, after `after`. */
export async function listClients(
  s: Uses<'store'>,
  page: { limit: number; after?: string | undefined },
): Promise<Client[]> {
  return s.store.clients.list(page.after === undefined ? { limit: page.limit } : page);
}

/**
 * Changes the given fields (PATCH). Turning a public client confidential issues its first secret
 * (returned once); turning a confidential one public drops its secret.
 */
export async function updateClient(
  s: Uses<'clock' | 'store', 'scopes'>,
  clientId: string,
  input: ClientPatchInput,
  actorId: string | null = null,
): Promise<{ client: Client; clientSecret?: string }> {
  if (Object.values(input).every((v) => v === undefined)) {
    throw new AppError('validation_failed', 'Nothing to change.', {
      errors: [{ field: 'body', message: 'give at least one field' }],
    });
  }
  const now = s.clock();
  let clientSecret: string | undefined;
  const client = await s.store.transaction(async (tx) => {
    const current = await tx.clients.findById(clientId);
    if (!current) throw notFound('Client');
    const merged = checkFields(s, {
      name: input.name ?? current.name,
      redirectUris: input.redirect_uris ?? current.redirectUris,
      postLogoutRedirectUris: input.post_logout_redirect_uris ?? current.postLogoutRedirectUris,
      grantTypes: input.grant_types ?? current.grantTypes,
      scope: input.scope === undefined ? current.scope : input.scope.split(' ').filter(Boolean),
      tokenEndpointAuthMethod: input.token_endpoint_auth_method ?? current.tokenEndpointAuthMethod,
      idTokenSignedResponseAlg:
        input.id_token_signed_response_alg ?? current.idTokenSignedResponseAlg,
      firstParty: input.first_party ?? current.firstParty,
    });
    const patch: ClientPatch = { ...merged };
    if (merged.tokenEndpointAuthMethod === 'none') patch.secretHash = null;
    else if (current.secretHash === null) {
      clientSecret = randomToken(32);
      patch.secretHash = hashSecret(clientSecret);
    }
    const updated = await tx.clients.update(clientId, patch, now);
    if (!updated) throw notFound('Client');
    await recordAudit(tx, {
      type: 'client.update',
      actorId,
      subjectId: clientId,
      at: now,
      details: { changes: changedFields(current, updated) },
    });
    return updated;
  });
  return clientSecret === undefined ? { client } : { client, clientSecret };
}

/** Deletes a client and ends its sessions in the same transaction: its tokens die at once. */
export async function deleteClient(
  s: Uses<'clock' | 'revocations' | 'store'>,
  clientId: string,
  actorId: string | null = null,
): Promise<void> {
  const now = s.clock();
  const applied = await s.store.transaction(async (tx) => {
    if (!(await tx.clients.delete(clientId))) throw notFound('Client');
    const sessionIds = await tx.sessions.listOpenIdsOfClient(clientId);
    const made = await endSessionsIn(s, tx, sessionIds, now);
    // Its client_credentials tokens have no session row: their shared sid is denied instead.
    const machine = s.revocations.sessionEntries([clientSessionId(clientId)]);
    for (const entry of machine) await tx.revocations.insert(entry);
    made.push(...machine);
    await recordAudit(tx, {
      type: 'client.delete',
      actorId,
      subjectId: clientId,
      at: now,
      details: { session_ids: sessionIds },
    });
    return made;
  });
  s.revocations.apply(applied);
}

/** A new secret for a confidential client, returned once; the old one stops working at once. */
export async function rotateClientSecret(
  s: Uses<'clock' | 'store'>,
  clientId: string,
  actorId: string | null = null,
): Promise<string> {
  const now = s.clock();
  const secret = randomToken(32);
  await s.store.transaction(async (tx: Store) => {
    const client = await tx.clients.findById(clientId);
    if (!client) throw notFound('Client');
    // A public client has no secret to rotate: saying so beats issuing one it cannot use.
    if (!isConfidential(client)) {
      throw new AppError(
        'client_not_confidential',
        'A public client (token_endpoint_auth_method "none") has no secret.',
      );
    }
    await tx.clients.setSecretHash(clientId, hashSecret(secret), now);
    await recordAudit(tx, { type: 'client.secret_rotate', actorId, subjectId: clientId, at: now });
  });
  return secret;
}

/** The confidential client whose secret this is, or undefined (unknown client, public, wrong). */
export async function verifyClientSecret(
  s: Uses<'store'>,
  clientId: string,
  secret: string,
): Promise<Client | undefined> {
  const client = await s.store.clients.findById(clientId);
  // Compared as digests in constant time; an unknown or public client costs the same comparison.
  const stored = client?.secretHash ?? `${SECRET_PREFIX}-`;
  const ok = constantTimeEqual(hashSecret(secret), stored);
  return ok && client && isConfidential(client) ? client : undefined;
}

// The secret is 256 random bits: a fast hash suffices (no dictionary to try), unlike passwords.
function hashSecret(secret: string): string {
  return SECRET_PREFIX + createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Every field a registration sets (the patchable ones but the secret). */
type ClientFields = Required<Omit<ClientPatch, 'secretHash'>>;

function checkFields(s: Uses<never, 'scopes'>, f: ClientFields): ClientFields {
  const errors: FieldError[] = [];
  const name = f.name.trim();
  if (name.length < 1 || name.length > MAX_NAME)
    errors.push({ field: 'name', message: `1 to ${MAX_NAME} characters` });
  else if (/[\p{Cc}\p{Cf}\u2028\u2029]/u.test(name))
    errors.push({ field: 'name', message: 'control characters are not allowed' });
  checkUris('redirect_uris', f.redirectUris, errors);
  checkUris('post_logout_redirect_uris', f.postLogoutRedirectUris, errors);
  const method = f.tokenEndpointAuthMethod;
  if (!(AUTH_METHODS as readonly string[]).includes(method))
    errors.push({
      field: 'token_endpoint_auth_method',
      message: `one of ${AUTH_METHODS.join(', ')}`,
    });
  if (!(ID_TOKEN_ALGS as readonly string[]).includes(f.idTokenSignedResponseAlg))
    errors.push({
      field: 'id_token_signed_response_alg',
      message: `one of ${ID_TOKEN_ALGS.join(', ')}`,
    });
  const grants = [...new Set(f.grantTypes)];
  if (grants.length === 0)
    errors.push({ field: 'grant_types', message: 'give at least one grant type' });
  grants.forEach((grant, i) => {
    if (!(GRANT_TYPES as readonly string[]).includes(grant))
      errors.push({ field: `grant_types.${i}`, message: `one of ${GRANT_TYPES.join(', ')}` });
  });
  // A public client cannot keep a secret, so it cannot authenticate as itself (OAuth 2.1 §4.2).
  if (grants.includes('client_credentials') && method === 'none')
    errors.push({
      field: 'grant_types',
      message:
        'client_credentials needs a confidential client (a token_endpoint_auth_method other than none)',
    });
  if (grants.includes('authorization_code') && f.redirectUris.length === 0)
    errors.push({ field: 'redirect_uris', message: 'authorization_code needs a redirect URI' });
  const scope = [...new Set(f.scope)];
  const known = new Set<string>([...OIDC_SCOPES, ...s.config.scopes]);
  const unknown = scope.filter((x) => !known.has(x));
  if (unknown.length > 0)
    errors.push({ field: 'scope', message: `unknown scopes: ${unknown.join(' ').slice(0, 200)}` });
  if (errors.length > 0) throw new ValidationError('The client is invalid.', errors);
  return {
    ...f,
    name,
    redirectUris: [...new Set(f.redirectUris)],
    postLogoutRedirectUris: [...new Set(f.postLogoutRedirectUris)],
    grantTypes: grants,
    scope,
  };
}

function checkUris(field: string, uris: readonly string[], errors: FieldError[]): void {
  if (uris.length > MAX_URIS) {
    errors.push({ field, message: `at most ${MAX_URIS}` });
    return;
  }
  uris.forEach((uri, i) => {
    const problem = uriProblem(uri);
    if (problem) errors.push({ field: `${field}.${i}`, message: problem });
  });
}

/** Why a URI cannot be registered, or undefined. Redirects are compared as exact strings later. */
function uriProblem(uri: string): string | undefined {
  if (uri.length === 0 || uri.length > MAX_URI) return `1 to ${MAX_URI} characters`;
  // Whitespace and control characters are where parsers disagree; none belongs in a redirect URI.
  if (/[\s\p{Cc}\p{Cf}]/u.test(uri)) return 'whitespace and control characters are not allowed';
  // A fragment would be dropped by the browser or smuggle data (RFC 6749 §3.1.2).
  if (uri.includes('#')) return 'a redirect URI must not have a fragment';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'not an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'an http(s) URL is required';
  // Userinfo ("https://app@evil") misleads readers of the URI about its host (RFC 9700 §4.1).
  if (url.username !== '' || url.password !== '' || /^[a-z]+:\/\/[^/?]*@/i.test(uri))
    return 'a redirect URI must not contain userinfo';
  if (url.hostname === '') return 'a host is required';
  // Plain http only to this machine (RFC 8252 §7.3): elsewhere the code would cross the network in clear.
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname))
    return 'https is required (http only for 127.0.0.1, [::1] or localhost)';
  return undefined;
}

function auditDetails(c: Client): Record<string, unknown> {
  return {
    name: c.name,
    redirect_uris: c.redirectUris,
    grant_types: c.grantTypes,
    scope: c.scope.join(' '),
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    first_party: c.firstParty,
  };
}

function changedFields(before: Client, after: Client): string[] {
  const keys = [
    'name',
    'redirectUris',
    'postLogoutRedirectUris',
    'grantTypes',
    'scope',
    'tokenEndpointAuthMethod',
    'idTokenSignedResponseAlg',
    'firstParty',
  ] as const;
  const changed: string[] = keys.filter(
    (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
  if (before.secretHash !== after.secretHash) changed.push('client_secret');
  return changed;
}
