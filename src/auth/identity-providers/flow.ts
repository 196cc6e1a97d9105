// One sign-in at a provider: the start (state, nonce and PKCE, remembered server-side under a key
// only this browser's cookie names) and the callback (the flow taken once, the state compared,
// the code exchanged and the answer validated by openid-client), which yields a Profile.
import * as oidc from 'openid-client';
import type { IdentityProviderSettings } from '../../config/index.ts';
import { constantTimeEqual, hmacSha256, randomToken } from '../../crypto/random.ts';
import type { Uses } from '../services.ts';
import { githubProfile, oidcProfile, type Profile, ProfileError } from './profile.ts';
import { ProviderUnavailable } from './registry.ts';

/** How long a started sign-in may take at the provider. */
export const FLOW_TTL_MS = 10 * 60_000;
const FLOW_KEY_PURPOSE = 'identity-provider-flow';

/** What the start remembers for the callback (in the kv, never in the browser). */
export interface PendingSignIn {
  provider: string;
  state: string;
  nonce: string | null;
  codeVerifier: string;
  /** A local path to go to afterwards. */
  next: string;
  /** Set when a signed-in user started a link from /account: the account to link to. */
  linkUserId: string | null;
}

export type FlowFailure =
  | 'missing_cookie'
  | 'unknown_flow'
  | 'state_mismatch'
  | 'provider_error'
  | 'provider_unavailable'
  | 'invalid_response';

export class FlowError extends Error {
  readonly reason: FlowFailure;
  constructor(reason: FlowFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FlowError';
    this.reason = reason;
  }
}

const flowKey = (s: Uses<'secrets'>, binding: string): string =>
  `idp:flow:${hmacSha256(s.secrets.key(FLOW_KEY_PURPOSE), binding)}`;

/** A local path: `/` and nothing that a browser could read as another host (an open redirect). */
export function localPath(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length > 2048) return '/';
  if (!raw.startsWith('/') || raw.startsWith('//')) return '/';
  // Backslashes and control characters let some browsers read the path as another host.
  if (raw.includes('\\') || /\p{Cc}/u.test(raw)) return '/';
  return raw;
}

// The provider's error code, shown on the page: a short token, nothing else it could inject.
const code = (raw: unknown): string =>
  typeof raw === 'string' && /^[\w.-]{1,64}$/.test(raw) ? raw : 'error';

/** Whether an error (or its causes) is the provider not answering: refused, reset, timed out. */
function unreachable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    if (e instanceof ProviderUnavailable) return true;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
    if (e instanceof TypeError && /fetch failed/i.test(e.message)) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^(ECONN|ENOTFOUND|EAI_|ETIMEDOUT|UND_ERR)/.test(code))
      return true;
  }
  return false;
}

/**
 * The redirect to the provider, and the value of the browser's flow cookie: the state, nonce and
 * PKCE verifier stay on the server, under a key derived from that cookie.
 */
export async function beginSignIn(
  s: Uses<'identityProviders' | 'kv' | 'secrets'>,
  p: IdentityProviderSettings,
  options: { next: string; linkUserId: string | null },
): Promise<{ location: string; binding: string }> {
  let config: oidc.Configuration;
  try {
    config = await s.identityProviders.configuration(p.name);
  } catch (error) {
    throw new FlowError(
      'provider_unavailable',
      `${p.displayName}: the provider cannot be reached.`,
      {
        cause: error,
      },
    );
  }
  const pending: PendingSignIn = {
    provider: p.name,
    state: oidc.randomState(),
    // GitHub issues no ID token, so there is nothing for a nonce to bind.
    nonce: p.kind === 'oidc' ? oidc.randomNonce() : null,
    codeVerifier: oidc.randomPKCECodeVerifier(),
    next: localPath(options.next),
    linkUserId: options.linkUserId,
  };
  const params: Record<string, string> = {
    redirect_uri: p.redirectUri,
    scope: p.scopes.join(' '),
    state: pending.state,
    code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
    code_challenge_method: 'S256',
  };
  if (pending.nonce !== null) params.nonce = pending.nonce;
  const binding = randomToken(32);
  await s.kv.set(flowKey(s, binding), JSON.stringify(pending), FLOW_TTL_MS);
  return { location: oidc.buildAuthorizationUrl(config, params).href, binding };
}

/**
 * Takes the pending sign-in of this browser (once: a replayed callback finds nothing), checks the
 * state, exchanges the code and validates the answer. Every failure is a FlowError.
 */
export async function finishSignIn(
  s: Uses<'identityProviders' | 'kv' | 'secrets'>,
  p: IdentityProviderSettings,
  input: { binding: string | undefined; query: string },
): Promise<{ pending: PendingSignIn; profile: Profile }> {
  // Login CSRF: a callback is only accepted in the browser that started the sign-in.
  if (input.binding === undefined)
    throw new FlowError('missing_cookie', 'This browser did not start this sign-in.');
  const key = flowKey(s, input.binding);
  const stored = await s.kv.get(key);
  // Single use: of two requests with the same cookie only one deletes the entry and goes on.
  if (stored === undefined || !(await s.kv.delIfEquals(key, stored)))
    throw new FlowError('unknown_flow', 'This sign-in has expired or was already used.');
  const pending = JSON.parse(stored) as PendingSignIn;
  const current = new URL(p.redirectUri);
  current.search = input.query;
  const state = current.searchParams.get('state') ?? '';
  if (pending.provider !== p.name || !constantTimeEqual(state, pending.state))
    throw new FlowError('state_mismatch', 'The answer does not belong to this sign-in.');
  try {
    const config = await s.identityProviders.configuration(p.name);
    const tokens = await oidc.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: pending.state,
      ...(pending.nonce !== null ? { expectedNonce: pending.nonce, idTokenExpected: true } : {}),
    });
    const profile =
      p.kind === 'github'
        ? await githubProfile(config, p, tokens)
        : await oidcProfile(config, tokens);
    return { pending, profile };
  } catch (error) {
    if (error instanceof oidc.AuthorizationResponseError)
      throw new FlowError(
        'provider_error',
        `${p.displayName} did not sign you in (${code(error.error)}).`,
        {
          cause: error,
        },
      );
    if (unreachable(error))
      throw new FlowError('provider_unavailable', `${p.displayName} cannot be reached.`, {
        cause: error,
      });
    const detail = error instanceof ProfileError ? error.message : 'its answer failed validation';
    throw new FlowError('invalid_response', `${p.displayName}: ${detail}.`, { cause: error });
  }
}
