// The database as Kysely sees it: one interface per table, snake_case columns.
// Timestamps are integers (ms since the epoch; int8 parsed to number on PostgreSQL),
// booleans are integer 0/1 in both databases, scopes are one space-delimited text.

export interface UsersTable {
  id: string;
  email: string;
  email_norm: string;
  username: string;
  username_norm: string;
  password_hash: string;
  is_active: number;
  is_superuser: number;
  is_verified: number;
  scopes: string;
  created_at: number;
  updated_at: number;
  /** Bumped by every change of credentials or rights (a password, deactivation, a lost right). */
  security_version: number;
  /** 0: made through an identity provider, no password yet (password_hash is ''). */
  has_password: number;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  client_id: string;
  scope: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  user_agent: string | null;
  ip: string | null;
  revoked_at: number | null;
  /** When the user last proved who they are (null: created_at). */
  auth_time: number | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk: string;
  created_at: number;
  retired_at: number | null;
}

export interface RevocationsTable {
  id: string;
  kind: string;
  subject: string;
  at: number;
  expires_at: number;
}

export interface AuditLogTable {
  seq: number;
  at: number;
  type: string;
  actor_id: string | null;
  subject_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface AccountTokensTable {
  token_hash: string;
  purpose: string;
  user_id: string;
  binding: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface TotpCredentialsTable {
  user_id: string;
  secret_sealed: string;
  created_at: number;
  confirmed_at: number | null;
  last_step: number | null;
}

export interface RecoveryCodesTable {
  user_id: string;
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

export interface MfaChallengesTable {
  token_hash: string;
  user_id: string;
  client_id: string;
  scope: string;
  created_at: number;
  expires_at: number;
  failures: number;
  used_at: number | null;
  /** The user's security_version when the password step passed. */
  security_version: number;
}

/** OAuth clients. URI lists are JSON arrays of strings; grant_types and scope are space-delimited. */
export interface ClientsTable {
  client_id: string;
  name: string;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  grant_types: string;
  scope: string;
  token_endpoint_auth_method: string;
  id_token_signed_response_alg: string;
  first_party: number;
  /** Null for public clients. */
  secret_hash: string | null;
  created_at: number;
  updated_at: number;
}

/** Authorization codes (RFC 6749 §4.1), stored as a keyed hash, single use. */
export interface AuthorizationCodesTable {
  code_hash: string;
  client_id: string;
  user_id: string;
  redirect_uri: string | null;
  code_challenge: string;
  scope: string;
  nonce: string | null;
  auth_time: number;
  security_version: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  session_id: string | null;
}

/** What a user allowed an app: one row per user and client, the scopes granted so far. */
export interface ConsentsTable {
  user_id: string;
  client_id: string;
  scope: string;
  created_at: number;
  updated_at: number;
}

/** Passkeys: a user's WebAuthn credentials (the public key only; the private key never leaves the authenticator). */
export interface WebauthnCredentialsTable {
  id: string;
  user_id: string;
  /** base64url */
  credential_id: string;
  /** The COSE public key, base64url. */
  public_key: string;
  counter: number;
  /** JSON array of transport names. */
  transports: string;
  device_type: string;
  backed_up: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

/** A ceremony's challenge, single use, bound to the browser that asked (binding_hash). */
export interface WebauthnChallengesTable {
  challenge: string;
  binding_hash: string;
  /** 'register' or 'login'. */
  purpose: string;
  user_id: string | null;
  created_at: number;
  expires_at: number;
}

/** An account's identities at other providers (SPEC §9): one row per (provider, subject). */
export interface IdentitiesTable {
  provider: string;
  subject: string;
  user_id: string;
  email: string | null;
  linked_at: number;
  last_used_at: number | null;
}

export interface Schema {
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  signing_keys: SigningKeysTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  revocations: RevocationsTable;
  account_tokens: AccountTokensTable;
  totp_credentials: TotpCredentialsTable;
  recovery_codes: RecoveryCodesTable;
  mfa_challenges: MfaChallengesTable;
  clients: ClientsTable;
  authorization_codes: AuthorizationCodesTable;
  consents: ConsentsTable;
  webauthn_credentials: WebauthnCredentialsTable;
  webauthn_challenges: WebauthnChallengesTable;
  identities: IdentitiesTable;
}
