// The identity providers users may sign in with (SPEC §9): IDENTITY_PROVIDERS names them and each
// name's IDP_<NAME>_* variables configure it. Read here, with the other settings, once at start-up.

export interface IdentityProviderSettings {
  /** Lower-case; the path segment of /auth/{name}/start and /auth/{name}/callback. */
  readonly name: string;
  /** 'oidc': OpenID Connect discovery at `issuer`; 'github': GitHub's OAuth 2.0 and REST API. */
  readonly kind: 'oidc' | 'github';
  /** The OpenID Connect issuer (kind 'oidc'); GitHub's web base URL (kind 'github'). */
  readonly issuer: string;
  /** GitHub's REST API base URL (kind 'github' only; empty for 'oidc'). */
  readonly apiUrl: string;
  readonly clientId: string;
  /** Empty for a public client (PKCE only). */
  readonly clientSecret: string;
  readonly scopes: readonly string[];
  /** The button's text. */
  readonly label: string;
  /** The provider's name in sentences: the label without a leading "Sign in with". */
  readonly displayName: string;
  /** `<PUBLIC_URL>/auth/{name}/callback`: the redirect URI to register at the provider. */
  readonly redirectUri: string;
}

const NAME = /^[a-z][a-z0-9_]{0,31}$/;
const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);
const GITHUB_WEB = 'https://github.com';
const GITHUB_API = 'https://api.github.com';

/** Loopback hosts: 127.0.0.0/8, [::1] and localhost. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

// Discovery, tokens and keys travel over this URL: plain HTTP only on this machine (dev and tests).
function providerUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`must be an absolute https:// URL, got "${raw.slice(0, 200)}"`);
  }
  const local = url.protocol === 'http:' && isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !local)
    throw new Error('must be https:// (http:// only for a loopback host)');
  if (url.search || url.hash || url.username || url.password)
    throw new Error('must not have a query, fragment or credentials');
  return raw;
}

function printable(raw: string, max: number): string {
  if (!/^[^\p{C}]+$/u.test(raw) || raw.length > max)
    throw new Error(`must be printable text of at most ${max} characters`);
  return raw;
}

function scopeList(raw: string): string[] {
  const list = raw.split(/[\s,]+/).filter(Boolean);
  for (const word of list) {
    // RFC 6749 §3.3 scope-token characters.
    if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(word)) throw new Error(`"${word}" is not a scope`);
  }
  return [...new Set(list)];
}

/**
 * The providers IDENTITY_PROVIDERS names, each checked; every problem names its variable. Unset
 * or empty: no providers.
 */
export function parseIdentityProviders(
  env: Record<string, string | undefined>,
  publicUrl: string,
  problems: string[],
): IdentityProviderSettings[] {
  const names = (env.IDENTITY_PROVIDERS ?? '')
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((n) => n.toLowerCase());
  const providers: IdentityProviderSettings[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (!NAME.test(name)) {
      problems.push(
        `IDENTITY_PROVIDERS: "${name.slice(0, 40)}" is not a name (a letter, then letters, digits or _, at most 32)`,
      );
      continue;
    }
    if (seen.has(name)) {
      problems.push(`IDENTITY_PROVIDERS: "${name}" is named twice`);
      continue;
    }
    seen.add(name);
    const provider = parseOne(env, name, publicUrl, problems);
    if (provider) providers.push(provider);
  }
  return providers;
}

function parseOne(
  env: Record<string, string | undefined>,
  name: string,
  publicUrl: string,
  problems: string[],
): IdentityProviderSettings | undefined {
  const prefix = `IDP_${name.toUpperCase()}_`;
  const read = (suffix: string): string | undefined => {
    const raw = env[`${prefix}${suffix}`];
    return raw === undefined || raw === '' ? undefined : raw;
  };
  const before = problems.length;
  const check = <T>(suffix: string, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (error) {
      problems.push(`${prefix}${suffix}: ${(error as Error).message}`);
      return undefined;
    }
  };
  const issuerRaw = read('ISSUER');
  // Only the name github without an issuer means GitHub; with one it is an OpenID provider.
  const kind = issuerRaw === undefined && name === 'github' ? 'github' : 'oidc';
  if (kind === 'oidc' && issuerRaw === undefined) {
    problems.push(`${prefix}ISSUER: required (the provider's OpenID Connect issuer URL)`);
  }
  const issuer =
    kind === 'github'
      ? check('URL', () => providerUrl(read('URL') ?? GITHUB_WEB))
      : issuerRaw !== undefined
        ? check('ISSUER', () => providerUrl(issuerRaw))
        : undefined;
  const apiUrl =
    kind === 'github' ? check('API_URL', () => providerUrl(read('API_URL') ?? GITHUB_API)) : '';
  const clientId = read('CLIENT_ID');
  if (clientId === undefined) problems.push(`${prefix}CLIENT_ID: required`);
  else check('CLIENT_ID', () => printable(clientId, 512));
  const clientSecret = env[`${prefix}CLIENT_SECRET`] ?? '';
  if (clientSecret !== '') check('CLIENT_SECRET', () => printable(clientSecret, 1024));
  const defaultScopes = kind === 'github' ? 'read:user user:email' : 'openid email profile';
  const scopes = check('SCOPES', () => scopeList(read('SCOPES') ?? defaultScopes));
  if (kind === 'oidc' && scopes && !scopes.includes('openid'))
    problems.push(`${prefix}SCOPES: must include openid (the ID token names the user)`);
  const label = check('LABEL', () => printable(read('LABEL') ?? defaultLabel(name), 64));
  if (problems.length > before) return undefined;
  return Object.freeze({
    name,
    kind,
    issuer: issuer as string,
    apiUrl: apiUrl as string,
    clientId: clientId as string,
    clientSecret,
    scopes: Object.freeze(scopes as string[]),
    label: label as string,
    displayName: (label as string).replace(/^(sign in|log in|continue) with\s+/i, '') || name,
    redirectUri: `${publicUrl.replace(/\/+$/, '')}/auth/${name}/callback`,
  });
}

const KNOWN_LABELS: Record<string, string> = {
  github: 'GitHub',
  gitlab: 'GitLab',
  google: 'Google',
  microsoft: 'Microsoft',
  keycloak: 'Keycloak',
  okta: 'Okta',
};

function defaultLabel(name: string): string {
  const known = KNOWN_LABELS[name] ?? name.charAt(0).toUpperCase() + name.slice(1);
  return `Sign in with ${known}`;
}
