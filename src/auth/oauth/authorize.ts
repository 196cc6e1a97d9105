// What /authorize does with a checked request: find the browser's sign-in, ask for a (fresh)
// password or for consent when needed, and otherwise issue an authorization code.
import { createHash } from 'node:crypto';
import { randomToken } from '../../crypto/random.ts';
import type { User } from '../../store/index.ts';
import { recordAudit } from '../audit/index.ts';
import { effectiveScopes } from '../identity/index.ts';
import type { Uses } from '../services.ts';
import { sessionOfRefreshToken } from '../sessions/index.ts';
import { type AuthorizationRequest, apiScopes, type RedirectedError } from './request.ts';

/** The signed-in browser: its cookie session and user, and when the user last proved who they are. */
export interface BrowserSignIn {
  sessionId: string;
  user: User;
  /** ms since the epoch. */
  authTime: number;
}

export type Decision =
  | { kind: 'login'; reauth: boolean }
  | { kind: 'consent'; user: User; sessionId: string }
  | { kind: 'code'; location: string }
  | RedirectedError;

// OAuth 2.1 §4.1.2: short-lived; RFC 6749 recommends at most ten minutes, 60 s is plenty for a redirect.
const CODE_TTL_MS = 60_000;

/** The live cookie session a refresh cookie names, with its active user; undefined otherwise. */
export async function browserSignIn(
  s: Uses<'clock' | 'refreshTokens' | 'store'>,
  refreshCookie: string | undefined,
): Promise<BrowserSignIn | undefined> {
  if (refreshCookie === undefined) return undefined;
  const sessionId = await sessionOfRefreshToken(s, refreshCookie);
  if (sessionId === undefined) return undefined;
  const session = await s.store.sessions.findById(sessionId);
  const now = s.clock();
  if (!session || session.revokedAt !== null || session.expiresAt <= now) return undefined;
  const user = await s.store.users.findById(session.userId);
  if (!user?.isActive) return undefined;
  return { sessionId, user, authTime: session.authTime };
}

/** The redirect of an error to the app (RFC 6749 §4.1.2.1 with RFC 9207's iss). */
export function errorLocation(issuer: string, e: RedirectedError): string {
  const params: Record<string, string> = { error: e.error, error_description: e.description };
  if (e.state !== undefined) params.state = e.state;
  params.iss = issuer;
  return withQuery(e.redirectUri, params);
}

export function withQuery(uri: string, params: Record<string, string>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) url.searchParams.append(k, v);
  return url.href;
}

const redirectError = (
  request: AuthorizationRequest,
  error: string,
  description: string,
): RedirectedError => ({
  kind: 'redirect',
  redirectUri: request.redirectUri,
  state: request.state,
  error,
  description,
});

/** The next step for a checked request and the browser's sign-in (if any). */
export async function decide(
  s: Uses<'clock' | 'store', 'issuer' | 'scopes'>,
  request: AuthorizationRequest,
  browser: BrowserSignIn | undefined,
): Promise<Decision> {
  const silent = request.prompt.has('none');
  if (!browser) {
    return silent
      ? redirectError(request, 'login_required', 'The user is not signed in.')
      : { kind: 'login', reauth: false };
  }
  const now = s.clock();
  const authSeconds = Math.floor(browser.authTime / 1000);
  const stale =
    request.prompt.has('login') ||
    (request.authAfter !== undefined && authSeconds < request.authAfter) ||
    (request.maxAgeSeconds !== undefined && now - browser.authTime > request.maxAgeSeconds * 1000);
  if (stale) {
    return silent
      ? redirectError(request, 'login_required', 'A new sign-in is required.')
      : { kind: 'login', reauth: true };
  }
  const rights = effectiveScopes(browser.user, s.config.scopes);
  const beyond = apiScopes(request.scopes).filter((x) => !rights.includes(x));
  if (beyond.length > 0) {
    return redirectError(
      request,
      'invalid_scope',
      'The requested scope exceeds what this user may be granted.',
    );
  }
  // First-party apps are the operator's own: their users are not asked.
  if (!request.client.firstParty) {
    const consent = await s.store.consents.find(browser.user.id, request.client.clientId);
    const covered = request.scopes.every((x) => consent?.scope.includes(x));
    if (!covered || request.prompt.has('consent')) {
      if (silent) return redirectError(request, 'consent_required', 'The user has not consented.');
      return { kind: 'consent', user: browser.user, sessionId: browser.sessionId };
    }
  }
  return { kind: 'code', location: await issueCode(s, request, browser) };
}

/** The user's answer on the consent page: a code (and the consent remembered), or access_denied. */
export async function answerConsent(
  s: Uses<'clock' | 'store', 'issuer'>,
  request: AuthorizationRequest,
  browser: BrowserSignIn,
  allow: boolean,
): Promise<string> {
  if (!allow) {
    return errorLocation(
      s.config.issuer,
      redirectError(request, 'access_denied', 'The user denied the request.'),
    );
  }
  const now = s.clock();
  await s.store.transaction(async (tx) => {
    const consent = await tx.consents.grant(
      browser.user.id,
      request.client.clientId,
      request.scopes,
      now,
    );
    await recordAudit(tx, {
      type: 'oauth.consent',
      actorId: browser.user.id,
      subjectId: browser.user.id,
      at: now,
      details: { client_id: request.client.clientId, scope: consent.scope.join(' ') },
    });
  });
  return issueCode(s, request, browser);
}

export function hashCode(code: string): string {
  // 256 random bits: a fast hash suffices (nothing to guess), and a leaked table redeems nothing.
  return createHash('sha256').update(code).digest('base64url');
}

async function issueCode(
  s: Uses<'clock' | 'store', 'issuer'>,
  request: AuthorizationRequest,
  browser: BrowserSignIn,
): Promise<string> {
  const code = randomToken(32);
  const now = s.clock();
  await s.store.authorizationCodes.insert({
    hash: hashCode(code),
    clientId: request.client.clientId,
    userId: browser.user.id,
    redirectUri: request.sentRedirectUri,
    codeChallenge: request.codeChallenge,
    scope: request.scopes.join(' '),
    nonce: request.nonce ?? null,
    authTime: browser.authTime,
    securityVersion: browser.user.securityVersion,
    createdAt: now,
    expiresAt: now + CODE_TTL_MS,
  });
  const params: Record<string, string> = { code };
  if (request.state !== undefined) params.state = request.state;
  // RFC 9207: the issuer in the response tells a client with several servers who answered (mix-up).
  params.iss = s.config.issuer;
  return withQuery(request.redirectUri, params);
}
