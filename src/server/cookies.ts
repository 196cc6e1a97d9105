// The browser's session cookies (the cookie mode): names, attributes, setting and clearing.
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

// `__Host-` makes the browser refuse these cookies unless Secure, host-only and Path=/, so no
// sibling subdomain or plain-HTTP page can plant or overwrite them (cookie tossing).
export const COOKIE = {
  access: '__Host-portcullis_access',
  refresh: '__Host-portcullis_refresh',
  csrf: '__Host-portcullis_csrf',
  webauthn: '__Host-portcullis_webauthn',
} as const;

export interface SessionCookies {
  accessToken: string;
  refreshToken: string;
  csrfToken: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

function attributes(httpOnly: boolean, maxAge: number): CookieSerializeOptions {
  return {
    path: '/',
    // Always Secure, development too: browsers treat http://localhost as a secure origin.
    secure: true,
    // Strict: the pages are static and read the session through same-origin fetch, so no flow needs
    // the cookies on a navigation from another site; Strict withholds them from every such request.
    sameSite: 'strict',
    httpOnly,
    maxAge,
  };
}

/** Sets the access and refresh cookies (HttpOnly) and the CSRF cookie (readable by the pages). */
export function setSessionCookies(reply: FastifyReply, c: SessionCookies): void {
  reply.setCookie(COOKIE.access, c.accessToken, attributes(true, c.accessTtlSeconds));
  reply.setCookie(COOKIE.refresh, c.refreshToken, attributes(true, c.refreshTtlSeconds));
  // Not HttpOnly by design: the pages copy it into X-CSRF-Token (double submit).
  reply.setCookie(COOKIE.csrf, c.csrfToken, attributes(false, c.refreshTtlSeconds));
}

/** Expires all three cookies, with the attributes they were set with (a `__Host-` cookie needs them). */
export function clearSessionCookies(reply: FastifyReply): void {
  reply.clearCookie(COOKIE.access, attributes(true, 0));
  reply.clearCookie(COOKIE.refresh, attributes(true, 0));
  reply.clearCookie(COOKIE.csrf, attributes(false, 0));
}

/** A cookie of the request, or undefined when absent or empty. */
export function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.cookies?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The passkey ceremonies' browser binding: a random id the challenges are tied to. HttpOnly (no
 * script reads it) and Strict, like the session cookies; it outlives a challenge's five minutes.
 */
export function setWebauthnBinding(reply: FastifyReply, binding: string): void {
  reply.setCookie(COOKIE.webauthn, binding, attributes(true, 10 * 60));
}
