// The one storage error callers switch on: a unique key was already taken.

export type ConflictField = 'email' | 'username' | 'id';

export class ConflictError extends Error {
  readonly field: ConflictField;

  constructor(field: ConflictField, options?: ErrorOptions) {
    super(`${field} is already taken`, options);
    this.name = 'ConflictError';
    this.field = field;
  }
}

// SQLite names the column ("UNIQUE constraint failed: users.email_norm"), PostgreSQL the
// constraint (code 23505, constraint "users_email_norm_key"); both map to the same field.
const SQLITE_COLUMNS: Readonly<Record<string, ConflictField>> = {
  'users.email_norm': 'email',
  'users.username_norm': 'username',
  'users.id': 'id',
  'sessions.id': 'id',
  'refresh_tokens.token_hash': 'id',
  'signing_keys.kid': 'id',
  // One current key per algorithm (a concurrent rotation): another key took the place.
  'signing_keys.alg': 'id',
  'revocations.id': 'id',
  'account_tokens.token_hash': 'id',
  'totp_credentials.user_id': 'id',
  'recovery_codes.user_id': 'id',
  'mfa_challenges.token_hash': 'id',
  'clients.client_id': 'id',
  'webauthn_credentials.credential_id': 'id',
  'webauthn_credentials.id': 'id',
  'webauthn_challenges.challenge': 'id',
  // "UNIQUE constraint failed: identities.provider, identities.subject": one account per identity.
  'identities.provider': 'id',
};

const PG_CONSTRAINTS: Readonly<Record<string, ConflictField>> = {
  users_email_norm_key: 'email',
  users_username_norm_key: 'username',
  users_pkey: 'id',
  sessions_pkey: 'id',
  refresh_tokens_pkey: 'id',
  signing_keys_pkey: 'id',
  signing_keys_current_alg: 'id',
  revocations_pkey: 'id',
  account_tokens_pkey: 'id',
  totp_credentials_pkey: 'id',
  recovery_codes_pkey: 'id',
  mfa_challenges_pkey: 'id',
  clients_pkey: 'id',
  webauthn_credentials_credential_id_key: 'id',
  webauthn_credentials_pkey: 'id',
  webauthn_challenges_pkey: 'id',
  identities_pkey: 'id',
};

const SQLITE_UNIQUE = /^UNIQUE constraint failed: ([\w.]+)/;

/** The ConflictError a driver error stands for, or undefined if it is not a unique violation we know. */
export function toConflictError(error: unknown): ConflictError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, constraint } = error as Error & { code?: unknown; constraint?: unknown };
  if (code === '23505' && typeof constraint === 'string') {
    const field = PG_CONSTRAINTS[constraint];
    return field ? new ConflictError(field, { cause: error }) : undefined;
  }
  const column = SQLITE_UNIQUE.exec(error.message)?.[1];
  const field = column === undefined ? undefined : SQLITE_COLUMNS[column];
  return field ? new ConflictError(field, { cause: error }) : undefined;
}

/** Runs a write, turning a known unique violation into a ConflictError. */
export async function mapConflict<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw toConflictError(error) ?? error;
  }
}
