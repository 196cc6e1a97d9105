// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): GET /logout ends the browser's
// session and that app's sessions for the user, then returns to a registered post-logout URI.
import { verifyIdTokenHint } from '../../tokens/id-token.ts';
import type { Client } from '../clients/index.ts';
import type { Uses } from '../services.ts';
import { endSessions } from '../sessions/index.ts';
import type { BrowserSignIn } from './authorize.ts';
import { withQuery } from './authorize.ts';
import type { UntrustedRequest } from './request.ts';

export interface LogoutRequest {
  client: Client | undefined;
  postLogoutRedirectUri: string | undefined;
  state: string | undefined;
  /** The user the id_token_hint names, when it is valid (then no confirmation is asked). */
  hintSubject: string | undefined;
}

const page = (title: string, detail: string): UntrustedRequest => ({ kind: 'page', title, detail });

export async function checkLogoutRequest(
  s: Uses<'clock' | 'keys' | 'store', 'issuer'>,
  params: Record<string, unknown>,
): Promise<{ kind: 'ok'; request: LogoutRequest } | UntrustedRequest> {
  const repeated = Object.keys(params).find((k) => Array.isArray(params[k]));
  if (repeated !== undefined) {
    return page(
      'This sign-out link is not valid',
      `The parameter "${repeated.slice(0, 40)}" is given more than once.`,
    );
  }
  const p = params as Record<string, string | undefined>;
  const hint =
    p.id_token_hint && p.id_token_hint.length <= 8192
      ? await verifyIdTokenHint(s.keys, p.id_token_hint, s.config.issuer, s.clock())
      : undefined;
  const clientId = p.client_id || hint?.aud;
  if (p.client_id && hint && hint.aud !== p.client_id) {
    return page(
      'This sign-out link is not valid',
      'The ID token was issued to another application.',
    );
  }
  const client =
    clientId && clientId.length <= 128 ? await s.store.clients.findById(clientId) : undefined;
  if (p.client_id && !client) {
    return page('Unknown application', 'The application that sent you here is not registered.');
  }
  const uri = p.post_logout_redirect_uri || undefined;
  // Only to an address registered for the app: anything else would be an open redirect.
  if (uri !== undefined && !client?.postLogoutRedirectUris.includes(uri)) {
    return page(
      'This sign-out link is not valid',
      'The address to return to after signing out is not registered for this application.',
    );
  }
  const state = p.state !== undefined && p.state.length <= 2048 ? p.state : undefined;
  return {
    kind: 'ok',
    request: { client, postLogoutRedirectUri: uri, state, hintSubject: hint?.sub },
  };
}

/** Where to go once signed out: the app's registered URI (with state), or undefined (our page). */
export function afterLogout(request: LogoutRequest): string | undefined {
  if (request.postLogoutRedirectUri === undefined) return undefined;
  return request.state === undefined
    ? request.postLogoutRedirectUri
    : withQuery(request.postLogoutRedirectUri, { state: request.state });
}

/** Ends the browser's session and the app's sessions of that user, refresh tokens included. */
export async function endSessionOf(
  s: Uses<'clock' | 'revocations' | 'store'>,
  request: LogoutRequest,
  browser: BrowserSignIn | undefined,
): Promise<void> {
  const userId = request.hintSubject ?? browser?.user.id;
  if (userId === undefined) return;
  const ids: string[] = [];
  // A hint for another user than the browser's leaves the browser's own session alone.
  if (browser && browser.user.id === userId) ids.push(browser.sessionId);
  if (request.client) {
    const clientId = request.client.clientId;
    const open = await s.store.sessions.listActive(userId, s.clock());
    ids.push(...open.filter((x) => x.clientId === clientId).map((x) => x.id));
  }
  await endSessions(s, [...new Set(ids)], {
    type: 'oauth.logout',
    actorId: userId,
    subjectId: userId,
    details: { client_id: request.client?.clientId ?? null },
  });
}
