// Every error code the API can answer with, in one table: the HTTP status of its problem-details
// answer, and what the OAuth endpoints (/token, /revoke) answer instead. Rules throw by code; only
// server/ reads `status` and `oauth` to build an answer.

export interface ErrorSpec {
  /** HTTP status of the problem-details answer. */
  readonly status: number;
  /** RFC 6749 §5.2 `error` an OAuth endpoint answers with. */
  readonly oauth: string;
  /** Status of the OAuth answer when it is not `status`. */
  readonly oauthStatus?: number;
  /** The `code` on the wire when it is not the key: one public code, two meanings. */
  readonly wire?: string;
}

// RFC 6749 has no code for "your request is wrong in a way OAuth does not name": every such error
// is its invalid_request, and a 400, so OAuth clients need to know no code of ours.
export const ERRORS = {
  // The request itself: framing, encoding, schema.
  bad_request: { status: 400, oauth: 'invalid_request' },
  invalid_request: { status: 400, oauth: 'invalid_request' },
  invalid_json: { status: 400, oauth: 'invalid_request' },
  invalid_characters: { status: 400, oauth: 'invalid_request' },
  // Too large stays a 413 everywhere: the size, not the OAuth request, is what is wrong.
  body_too_large: { status: 413, oauth: 'invalid_request' },
  unsupported_media_type: { status: 415, oauth: 'invalid_request', oauthStatus: 400 },
  validation_failed: { status: 422, oauth: 'invalid_request', oauthStatus: 400 },
  not_found: { status: 404, oauth: 'invalid_request', oauthStatus: 400 },
  csrf_failed: { status: 403, oauth: 'invalid_request', oauthStatus: 400 },

  // Who is asking, and may they.
  unauthenticated: { status: 401, oauth: 'invalid_client' },
  invalid_token: { status: 401, oauth: 'invalid_token' },
  forbidden: { status: 403, oauth: 'insufficient_scope' },
  insufficient_scope: { status: 403, oauth: 'insufficient_scope' },

  // The OAuth grants.
  invalid_client: { status: 401, oauth: 'invalid_client' },
  invalid_grant: { status: 400, oauth: 'invalid_grant' },
  // A refresh credential of no live session, outside OAuth: a failed authentication, so a 401, but
  // the same public code as on /token, where it is the grant's 400.
  session_ended: { status: 401, wire: 'invalid_grant', oauth: 'invalid_grant', oauthStatus: 400 },
  invalid_scope: { status: 400, oauth: 'invalid_scope' },
  unauthorized_client: { status: 400, oauth: 'unauthorized_client' },
  unsupported_grant_type: { status: 400, oauth: 'unsupported_grant_type' },
  unsupported_token_type: { status: 400, oauth: 'unsupported_token_type' },
  slow_down: { status: 400, oauth: 'slow_down' },

  // Sign-in and the second factor; the extensions keep their own code on /token too.
  mfa_required: { status: 400, oauth: 'mfa_required' },
  second_factor_unavailable: { status: 400, oauth: 'second_factor_unavailable' },
  email_not_verified: { status: 400, oauth: 'email_not_verified' },
  invalid_otp: { status: 400, oauth: 'invalid_request' },
  invalid_password: { status: 400, oauth: 'invalid_request' },
  totp_already_enabled: { status: 409, oauth: 'invalid_request', oauthStatus: 400 },
  totp_not_pending: { status: 409, oauth: 'invalid_request', oauthStatus: 400 },
  totp_not_enabled: { status: 409, oauth: 'invalid_request', oauthStatus: 400 },

  // Passkeys (WebAuthn).
  invalid_passkey: { status: 400, oauth: 'invalid_request' },
  passkey_exists: { status: 409, oauth: 'invalid_request', oauthStatus: 400 },
  passkeys_disabled: { status: 404, oauth: 'invalid_request', oauthStatus: 400 },

  // Accounts and mailed links.
  weak_password: { status: 422, oauth: 'invalid_request', oauthStatus: 400 },
  user_exists: { status: 409, oauth: 'invalid_request', oauthStatus: 400 },
  edit_conflict: { status: 409, oauth: 'invalid_request', oauthStatus: 400 },
  already_verified: { status: 409, oauth: 'invalid_request', oauthStatus: 400 },
  invalid_or_expired_token: { status: 400, oauth: 'invalid_request' },
  too_many_requests: { status: 429, oauth: 'invalid_request', oauthStatus: 400 },
  // ALLOW_SIGNUP=false: no new accounts (SPEC §9).
  signup_disabled: { status: 403, oauth: 'access_denied' },
  // Unlinking an identity that is the account's only way to sign in (SPEC §9).
  last_sign_in_method: { status: 409, oauth: 'invalid_request', oauthStatus: 400 },

  // The client registry.
  client_not_confidential: { status: 409, oauth: 'invalid_request', oauthStatus: 400 },

  // Refusals for a while: the lockout and the rate limit keep their status and Retry-After on
  // /token, so a client backs off instead of reporting bad credentials.
  too_many_attempts: { status: 429, oauth: 'too_many_attempts' },
  rate_limited: { status: 429, oauth: 'rate_limited' },
  temporarily_unavailable: { status: 503, oauth: 'temporarily_unavailable' },

  internal_error: { status: 500, oauth: 'server_error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export function errorSpec(code: ErrorCode): ErrorSpec {
  return ERRORS[code];
}
