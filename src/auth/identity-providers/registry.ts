// The configured identity providers and their openid-client Configurations. OpenID providers are
// discovered at start-up in the background and again, with growing delays, until they answer: a
// provider that is down never stops the server, its button shows as unavailable, and a sign-in
// tries discovery once more before it says so.
import * as oidc from 'openid-client';
import type { IdentityProviderSettings } from '../../config/index.ts';
import { isLoopbackHost } from '../../config/index.ts';

/** The part of a pino logger the registry uses. */
export interface ProviderLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface ProviderView {
  name: string;
  label: string;
  displayName: string;
  kind: 'oidc' | 'github';
  /** False while discovery has not succeeded (the provider could not be reached). */
  available: boolean;
}

export interface IdentityProviders {
  /** Every configured provider, in the order of IDENTITY_PROVIDERS. */
  list(): ProviderView[];
  settings(name: string): IdentityProviderSettings | undefined;
  /** The provider's Configuration; discovers now if it has not yet (throws ProviderUnavailable). */
  configuration(name: string): Promise<oidc.Configuration>;
  /** Starts discovery of every OpenID provider (in the background; never throws). */
  start(log?: ProviderLog): void;
  stop(): void;
}

export class ProviderUnavailable extends Error {
  constructor(name: string, options?: ErrorOptions) {
    super(`identity provider ${name} cannot be reached`, options);
    this.name = 'ProviderUnavailable';
  }
}

// Discovery, token and API calls give up after this long: a slow provider must not hold a sign-in.
export const PROVIDER_TIMEOUT_SECONDS = 10;
const RETRY_MS = [5_000, 15_000, 60_000, 300_000];

interface Entry {
  settings: IdentityProviderSettings;
  config?: oidc.Configuration;
  pending?: Promise<oidc.Configuration>;
  failures: number;
  timer?: NodeJS.Timeout;
}

/** openid-client refuses http:// unless told; loopback issuers are allowed it (SPEC §9). */
function insecureAllowed(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname);
}

function clientAuth(secret: string, methods: readonly string[] | undefined): oidc.ClientAuth {
  // No secret: a public client, which PKCE alone protects.
  if (secret === '') return oidc.None();
  return methods === undefined || methods.includes('client_secret_basic')
    ? oidc.ClientSecretBasic(secret)
    : oidc.ClientSecretPost(secret);
}

/** GitHub is not an OpenID provider: its OAuth 2.0 endpoints, written down rather than discovered. */
function githubConfiguration(p: IdentityProviderSettings): oidc.Configuration {
  const web = p.issuer.replace(/\/+$/, '');
  const config = new oidc.Configuration(
    {
      issuer: web,
      authorization_endpoint: `${web}/login/oauth/authorize`,
      token_endpoint: `${web}/login/oauth/access_token`,
    },
    p.clientId,
    undefined,
    // GitHub reads the client's credentials from the form body.
    p.clientSecret === '' ? oidc.None() : oidc.ClientSecretPost(p.clientSecret),
  );
  if (insecureAllowed(web) || insecureAllowed(p.apiUrl)) oidc.allowInsecureRequests(config);
  config.timeout = PROVIDER_TIMEOUT_SECONDS;
  return config;
}

async function discover(p: IdentityProviderSettings): Promise<oidc.Configuration> {
  const insecure = insecureAllowed(p.issuer);
  const found = await oidc.discovery(new URL(p.issuer), p.clientId, undefined, undefined, {
    execute: insecure ? [oidc.allowInsecureRequests] : [],
    timeout: PROVIDER_TIMEOUT_SECONDS,
  });
  const methods = found.serverMetadata().token_endpoint_auth_methods_supported;
  // Built again with the client authentication the provider supports.
  const config = new oidc.Configuration(
    found.serverMetadata(),
    p.clientId,
    undefined,
    clientAuth(p.clientSecret, methods),
  );
  if (insecure) oidc.allowInsecureRequests(config);
  // openid-client checks an ID token's signature only when told to (OIDC Core §3.1.3.7 lets a client
  // trust TLS instead); SPEC §9 wants it checked against the provider's JWKS, so a token forged in
  // transit or by a proxy is refused.
  oidc.enableNonRepudiationChecks(config);
  config.timeout = PROVIDER_TIMEOUT_SECONDS;
  return config;
}

export function createIdentityProviders(
  providers: readonly IdentityProviderSettings[],
): IdentityProviders {
  const entries = new Map<string, Entry>(
    providers.map((p) => [
      p.name,
      { settings: p, failures: 0, ...(p.kind === 'github' && { config: githubConfiguration(p) }) },
    ]),
  );
  let log: ProviderLog | undefined;
  let stopped = false;

  function attempt(entry: Entry): Promise<oidc.Configuration> {
    if (entry.config) return Promise.resolve(entry.config);
    if (entry.pending) return entry.pending;
    const { name, issuer } = entry.settings;
    entry.pending = discover(entry.settings).then(
      (config) => {
        entry.config = config;
        entry.pending = undefined;
        clearTimeout(entry.timer);
        log?.info({ provider: name, issuer }, 'identity provider discovered');
        return config;
      },
      (error: unknown) => {
        entry.pending = undefined;
        entry.failures += 1;
        const retryMs = RETRY_MS[Math.min(entry.failures - 1, RETRY_MS.length - 1)] as number;
        log?.warn(
          { provider: name, issuer, err: error, retry_in_seconds: retryMs / 1000 },
          'identity provider discovery failed (unreachable, or its issuer or metadata is wrong); its button shows as unavailable',
        );
        schedule(entry, retryMs);
        throw new ProviderUnavailable(name, { cause: error });
      },
    );
    return entry.pending;
  }

  function schedule(entry: Entry, ms: number): void {
    clearTimeout(entry.timer);
    if (stopped) return;
    entry.timer = setTimeout(() => {
      attempt(entry).catch(() => {
        // Logged and rescheduled by attempt().
      });
    }, ms);
    entry.timer.unref();
  }

  return {
    list: () =>
      [...entries.values()].map(({ settings, config }) => ({
        name: settings.name,
        label: settings.label,
        displayName: settings.displayName,
        kind: settings.kind,
        available: config !== undefined,
      })),
    settings: (name) => entries.get(name)?.settings,
    configuration(name) {
      const entry = entries.get(name);
      if (!entry) return Promise.reject(new ProviderUnavailable(name));
      return attempt(entry);
    },
    start(given) {
      log = given;
      for (const entry of entries.values()) {
        attempt(entry).catch(() => {
          // Logged and rescheduled by attempt().
        });
      }
    },
    stop() {
      stopped = true;
      for (const entry of entries.values()) clearTimeout(entry.timer);
    },
  };
}
