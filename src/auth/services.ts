// What the rules are given: the configuration, the store, the clock and the services built from
// them. Built once per process by the composition root (src/app/); each rule names the part it
// uses in its signature: `s: Uses<members, settings>`.
import type { Config } from '../config/index.ts';
import type { PasswordHasher } from '../crypto/passwords.ts';
import type { SecretRing } from '../crypto/secret-ring.ts';
import type { Kv } from '../kv/index.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { Store } from '../store/index.ts';
import type { AccessTokens } from '../tokens/access-token.ts';
import type { KeyRing } from '../tokens/keys.ts';
import type { RefreshTokenCodec } from '../tokens/refresh.ts';
import type { RevocationList } from '../tokens/revocation.ts';
import type { IdentityProviders } from './identity-providers/index.ts';

export interface Services {
  config: Config;
  store: Store;
  clock: () => number;
  /** SECRET_KEY and PREVIOUS_SECRET_KEYS, and the subkeys derived from them per purpose. */
  secrets: SecretRing;
  hasher: PasswordHasher;
  keys: KeyRing;
  accessTokens: AccessTokens;
  refreshTokens: RefreshTokenCodec;
  revocations: RevocationList;
  /** Shared state: lockout and rate-limit counters, revocation messages (Redis or memory). */
  kv: Kv;
  /** Outgoing mail (SMTP_URL, or the outbox); logs through the server's logger once given one. */
  mailer: Mailer;
  /** IDENTITY_PROVIDERS: their discovery state and openid-client Configurations (SPEC §9). */
  identityProviders: IdentityProviders;
  close(): Promise<void>;
}

/**
 * The part of the services a rule uses: the members named in K and, of the configuration, only the
 * settings named in C. A rule that takes `Uses<...>` says in its signature what it reads; the whole
 * `Services` is one (the routes and the CLI pass it).
 */
export type Uses<
  K extends Exclude<keyof Services, 'config'>,
  C extends keyof Config = never,
> = Pick<Services, K> & { readonly config: Pick<Config, C> };
