// The table of settings: one line per environment variable, its default and its rule.
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { OWASP_MINIMUM } from '../crypto/passwords.ts';

export type NodeEnv = 'development' | 'production' | 'test';
export type Algorithm = 'HS256' | 'RS256' | 'ES256' | 'EdDSA';
/** At most `max` requests per client address in each window of `windowSeconds`. */
export interface RateLimit {
  readonly max: number;
  readonly windowSeconds: number;
}

export interface Settings {
  readonly nodeEnv: NodeEnv;
  readonly algorithm: Algorithm;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly refreshReuseGraceSeconds: number;
  readonly port: number;
  readonly host: string;
  readonly issuer: string;
  readonly audience: string;
  readonly publicUrl: string;
  /** The passkeys' relying-party id; unset, the host of PUBLIC_URL. */
  readonly webauthnRpId: string | undefined;
  /** The name authenticators show for this site. */
  readonly webauthnRpName: string;
  readonly dataDir: string;
  readonly databaseUrl: string;
  readonly redisUrl: string | undefined;
  readonly smtpUrl: string | undefined;
  readonly scopes: readonly string[];
  readonly defaultScopes: readonly string[];
  readonly trustProxy: string | undefined;
  /** GET /metrics answers this bearer token; unset, only loopback clients. */
  readonly metricsToken: string | undefined;
  readonly corsOrigins: readonly string[];
  readonly passwordMinLength: number;
  readonly passwordMaxLength: number;
  readonly passwordHashMemoryKib: number;
  readonly passwordHashTimeCost: number;
  readonly passwordHashParallelism: number;
  readonly keysReloadSeconds: number;
  readonly revocationPollMs: number;
  readonly verifiedTokenCacheSize: number;
  readonly liveSessionCacheSize: number;
  readonly defaultClientId: string;
  readonly logLevel: string;
  readonly redisPrefix: string;
  readonly lockoutThreshold: number;
  readonly lockoutBaseSeconds: number;
  readonly lockoutMaxSeconds: number;
  readonly lockoutWindowSeconds: number;
  readonly lockoutQueueSeconds: number;
  readonly rateLimitToken: RateLimit;
  readonly rateLimitLogin: RateLimit;
  readonly rateLimitRefresh: RateLimit;
  readonly rateLimitRegister: RateLimit;
  readonly rateLimitPassword: RateLimit;
  readonly rateLimitTotp: RateLimit;
  readonly rateLimitAuthorize: RateLimit;
  readonly rateLimitPasskey: RateLimit;
  readonly requireVerifiedEmail: boolean;
  /** False: no new accounts, neither at /register nor through an identity provider (SPEC §9). */
  readonly allowSignup: boolean;
  readonly mailFrom: string;
  readonly totpIssuer: string;
}

type Parsed = Partial<Settings>;
interface Setting {
  name: string;
  key: keyof Settings;
  parse(raw: string | undefined, previous: Parsed): unknown;
}

function int(min: number, max: number, fallback: number) {
  return (raw: string | undefined): number => {
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) throw new Error(`must be a whole number, got "${raw}"`);
    const value = Number(raw);
    if (value < min || value > max)
      throw new Error(`must be between ${min} and ${max}, got ${value}`);
    return value;
  };
}

function oneOf<T extends string>(choices: readonly T[], fallback: T) {
  return (raw: string | undefined): T => {
    if (raw === undefined) return fallback;
    if (!(choices as readonly string[]).includes(raw)) {
      throw new Error(`must be one of ${choices.join(', ')}, got "${raw}"`);
    }
    return raw as T;
  };
}

function bool(fallback: boolean) {
  return (raw: string | undefined): boolean => {
    if (raw === undefined) return fallback;
    const value = raw.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    throw new Error(`must be true or false, got "${raw}"`);
  };
}

// One line of printable text: a CR or LF in a mail header or an otpauth label would inject.
function oneLine(max: number) {
  return (raw: string): string => {
    if (!/^[^\p{C}]+$/u.test(raw) || raw.length > max)
      throw new Error(`must be printable text of at most ${max} characters`);
    return raw;
  };
}

function httpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error('must be an http(s) URL');
  if (url.search || url.hash) throw new Error('must not have a query or fragment');
  return raw;
}

// WebAuthn: the RP id must be the origin's host or a registrable suffix of it, or browsers refuse.
function rpId(raw: string | undefined, publicUrl: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const id = raw.toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(id))
    throw new Error(`must be a host name such as example.com (no scheme or port), got "${raw}"`);
  const host = new URL(publicUrl ?? 'http://localhost').hostname.toLowerCase();
  if (host !== id && !host.endsWith(`.${id}`))
    throw new Error(`must be PUBLIC_URL's host (${host}) or a parent domain of it, got "${raw}"`);
  return id;
}

function words(raw: string | undefined, fallback: string): string[] {
  const list = (raw ?? fallback).split(/[\s,]+/).filter(Boolean);
  for (const word of list) {
    // RFC 6749 §3.3 scope-token characters.
    if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(word))
      throw new Error(`"${word}" is not a valid scope`);
  }
  return [...new Set(list)];
}

// A password hash weaker than OWASP's minimum is allowed only in tests, never by accident.
function hashCost(field: keyof typeof OWASP_MINIMUM, fallback: number, max: number) {
  return (raw: string | undefined, previous: Parsed): number => {
    const value = int(1, max, fallback)(raw);
    if (previous.nodeEnv !== 'test' && value < OWASP_MINIMUM[field]) {
      throw new Error(
        `must be at least ${OWASP_MINIMUM[field]} (OWASP minimum); lower values are for NODE_ENV=test only`,
      );
    }
    return value;
  };
}

const PROXY_KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];

// Named proxies only: `true` or a hop count would believe whatever a client writes.
function proxyList(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  for (const entry of raw.split(/[\s,]+/).filter(Boolean)) {
    const [address = '', bits, extra] = entry.split('/');
    const version = isIP(address);
    const max = version === 4 ? 32 : 128;
    const cidrOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
    if (PROXY_KEYWORDS.includes(entry) || (version !== 0 && cidrOk && extra === undefined))
      continue;
    throw new Error(
      `"${entry}" is not an IP address, a CIDR or one of ${PROXY_KEYWORDS.join(', ')} (name the proxies)`,
    );
  }
  return raw;
}

const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600 };

// "30/1m": 30 requests a minute. Never off: the password grant needs it (RFC 6749 §4.3.2).
function rateLimit(fallback: string) {
  return (raw: string | undefined): RateLimit => {
    const text = raw ?? fallback;
    const match = /^(\d{1,9})\/(\d{1,6})([smh]?)$/.exec(text.replaceAll(' ', ''));
    if (!match)
      throw new Error(`must look like 30/1m (requests/window in s, m or h), got "${text}"`);
    const max = Number(match[1]);
    const windowSeconds = Number(match[2]) * (UNIT_SECONDS[match[3] ?? ''] ?? 1);
    if (max < 1) throw new Error('must allow at least 1 request');
    if (windowSeconds < 1 || windowSeconds > 86_400)
      throw new Error('window must be between 1 second and 24 hours');
    return { max, windowSeconds };
  };
}

export const SETTINGS: readonly Setting[] = [
  {
    name: 'NODE_ENV',
    key: 'nodeEnv',
    parse: oneOf(['development', 'production', 'test'], 'development'),
  },
  {
    name: 'ALGORITHM',
    key: 'algorithm',
    parse: oneOf(['ES256', 'HS256', 'RS256', 'EdDSA'], 'ES256'),
  },
  {
    name: 'ACCESS_TOKEN_EXPIRE_MINUTES',
    key: 'accessTokenTtlSeconds',
    parse: (raw) => int(1, 24 * 60, 15)(raw) * 60,
  },
  {
    name: 'REFRESH_TOKEN_EXPIRE_DAYS',
    key: 'refreshTokenTtlSeconds',
    parse: (raw) => int(1, 365, 7)(raw) * 86_400,
  },
  { name: 'REFRESH_REUSE_GRACE_SECONDS', key: 'refreshReuseGraceSeconds', parse: int(0, 60, 10) },
  { name: 'PORT', key: 'port', parse: int(0, 65_535, 8000) },
  { name: 'HOST', key: 'host', parse: (raw) => raw ?? '127.0.0.1' },
  {
    name: 'ISSUER',
    key: 'issuer',
    parse: (raw, p) => (raw === undefined ? `http://localhost:${p.port ?? 8000}` : httpUrl(raw)),
  },
  { name: 'AUDIENCE', key: 'audience', parse: (raw, p) => raw ?? p.issuer },
  {
    name: 'PUBLIC_URL',
    key: 'publicUrl',
    parse: (raw, p) => (raw === undefined ? p.issuer : httpUrl(raw)),
  },
  { name: 'WEBAUTHN_RP_ID', key: 'webauthnRpId', parse: (raw, p) => rpId(raw, p.publicUrl) },
  {
    name: 'WEBAUTHN_RP_NAME',
    key: 'webauthnRpName',
    parse: (raw) => (raw === undefined ? 'Portcullis' : oneLine(64)(raw)),
  },
  { name: 'DATA_DIR', key: 'dataDir', parse: (raw) => resolve(raw ?? './data') },
  {
    name: 'DATABASE_URL',
    key: 'databaseUrl',
    parse: (raw, p) => {
      const url = raw ?? `sqlite:${resolve(p.dataDir ?? './data', 'portcullis.db')}`;
      if (!/^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(url)) {
        throw new Error('must start with sqlite: or postgres://');
      }
      return url;
    },
  },
  {
    name: 'REDIS_URL',
    key: 'redisUrl',
    parse: (raw) => {
      if (raw !== undefined && !/^rediss?:\/\//.test(raw))
        throw new Error('must start with redis:// or rediss://');
      return raw;
    },
  },
  {
    name: 'SMTP_URL',
    key: 'smtpUrl',
    parse: (raw) => {
      if (raw !== undefined && !/^smtps?:\/\//.test(raw))
        throw new Error('must start with smtp:// or smtps://');
      return raw;
    },
  },
  { name: 'SCOPES', key: 'scopes', parse: (raw) => words(raw, 'read write admin') },
  {
    name: 'DEFAULT_SCOPES',
    key: 'defaultScopes',
    parse: (raw, p) => {
      const list = words(raw, 'read write');
      const unknown = list.filter((s) => !p.scopes?.includes(s));
      if (unknown.length > 0)
        throw new Error(`names scopes missing from SCOPES: ${unknown.join(', ')}`);
      // admin is what superusers get; granting it by default would make every user an administrator.
      if (list.includes('admin')) throw new Error('must not include admin (superusers get it)');
      return list;
    },
  },
  { name: 'TRUST_PROXY', key: 'trustProxy', parse: (raw) => proxyList(raw) },
  {
    name: 'METRICS_TOKEN',
    key: 'metricsToken',
    parse: (raw) => {
      if (raw === undefined || raw === '') return undefined;
      // A bearer token that guards operational data: long enough not to be guessed.
      if (!/^[\x21-\x7E]{16,256}$/.test(raw))
        throw new Error('must be 16 to 256 printable characters without spaces');
      return raw;
    },
  },
  {
    name: 'CORS_ORIGINS',
    key: 'corsOrigins',
    parse: (raw) =>
      (raw ?? '')
        .split(/[\s,]+/)
        .filter(Boolean)
        .map((o) => new URL(httpUrl(o)).origin),
  },
  { name: 'PASSWORD_MIN_LENGTH', key: 'passwordMinLength', parse: int(8, 64, 8) },
  {
    name: 'PASSWORD_MAX_LENGTH',
    key: 'passwordMaxLength',
    parse: (raw, p) => {
      const value = int(64, 4096, 256)(raw);
      if (value < (p.passwordMinLength ?? 8))
        throw new Error('must not be below PASSWORD_MIN_LENGTH');
      return value;
    },
  },
  {
    name: 'PASSWORD_HASH_MEMORY_KIB',
    key: 'passwordHashMemoryKib',
    parse: hashCost('memoryCost', OWASP_MINIMUM.memoryCost, 4 * 1024 * 1024),
  },
  {
    name: 'PASSWORD_HASH_TIME_COST',
    key: 'passwordHashTimeCost',
    parse: hashCost('timeCost', 2, 100),
  },
  { name: 'PASSWORD_HASH_PARALLELISM', key: 'passwordHashParallelism', parse: int(1, 16, 1) },
  { name: 'KEYS_RELOAD_SECONDS', key: 'keysReloadSeconds', parse: int(1, 86_400, 60) },
  { name: 'REVOCATION_POLL_MS', key: 'revocationPollMs', parse: int(100, 60_000, 1000) },
  // Verified access tokens remembered by the hot path (0 turns the cache off): ~1.5 KB each.
  {
    name: 'VERIFIED_TOKEN_CACHE_SIZE',
    key: 'verifiedTokenCacheSize',
    parse: int(0, 1_000_000, 10_000),
  },
  // Live session ids remembered by the hot path (0: the sessions table is read on every request).
  {
    name: 'LIVE_SESSION_CACHE_SIZE',
    key: 'liveSessionCacheSize',
    parse: int(0, 1_000_000, 10_000),
  },
  {
    name: 'DEFAULT_CLIENT_ID',
    key: 'defaultClientId',
    parse: (raw) => {
      if (raw !== undefined && !/^[\x20-\x7E]{1,128}$/.test(raw))
        throw new Error('must be printable ASCII');
      return raw ?? 'portcullis';
    },
  },
  {
    name: 'LOG_LEVEL',
    key: 'logLevel',
    parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  },
  {
    name: 'REDIS_PREFIX',
    key: 'redisPrefix',
    parse: (raw) => {
      if (raw !== undefined && !/^[\x21-\x7E]{1,64}$/.test(raw))
        throw new Error('must be 1–64 printable characters without spaces');
      return raw ?? 'portcullis:';
    },
  },
  { name: 'LOCKOUT_THRESHOLD', key: 'lockoutThreshold', parse: int(1, 1000, 5) },
  { name: 'LOCKOUT_BASE_SECONDS', key: 'lockoutBaseSeconds', parse: int(1, 3600, 30) },
  {
    name: 'LOCKOUT_MAX_SECONDS',
    key: 'lockoutMaxSeconds',
    parse: (raw, p) => {
      // Bounded: a delay an attacker can impose must end, so the owner is never locked out for good.
      const value = int(1, 86_400, 900)(raw);
      if (value < (p.lockoutBaseSeconds ?? 30))
        throw new Error('must not be below LOCKOUT_BASE_SECONDS');
      return value;
    },
  },
  {
    name: 'LOCKOUT_WINDOW_SECONDS',
    key: 'lockoutWindowSeconds',
    parse: int(60, 30 * 86_400, 86_400),
  },
  // How long a check waits for the check of the same account ahead of it (then 503).
  { name: 'LOCKOUT_QUEUE_SECONDS', key: 'lockoutQueueSeconds', parse: int(1, 60, 5) },
  { name: 'RATE_LIMIT_TOKEN', key: 'rateLimitToken', parse: rateLimit('30/1m') },
  { name: 'RATE_LIMIT_LOGIN', key: 'rateLimitLogin', parse: rateLimit('30/1m') },
  { name: 'RATE_LIMIT_REFRESH', key: 'rateLimitRefresh', parse: rateLimit('60/1m') },
  { name: 'RATE_LIMIT_REGISTER', key: 'rateLimitRegister', parse: rateLimit('20/1h') },
  { name: 'RATE_LIMIT_PASSWORD', key: 'rateLimitPassword', parse: rateLimit('10/1h') },
  { name: 'RATE_LIMIT_TOTP', key: 'rateLimitTotp', parse: rateLimit('10/1m') },
  { name: 'RATE_LIMIT_AUTHORIZE', key: 'rateLimitAuthorize', parse: rateLimit('60/1m') },
  { name: 'RATE_LIMIT_PASSKEY', key: 'rateLimitPasskey', parse: rateLimit('30/1m') },
  { name: 'REQUIRE_VERIFIED_EMAIL', key: 'requireVerifiedEmail', parse: bool(false) },
  { name: 'ALLOW_SIGNUP', key: 'allowSignup', parse: bool(true) },
  {
    name: 'MAIL_FROM',
    key: 'mailFrom',
    parse: (raw, p) => {
      if (raw === undefined)
        return `Portcullis <no-reply@${new URL(p.publicUrl ?? 'http://localhost').hostname}>`;
      const value = oneLine(320)(raw);
      if (!value.includes('@'))
        throw new Error('must be an address, e.g. "Portcullis <no-reply@example.com>"');
      return value;
    },
  },
  {
    name: 'TOTP_ISSUER',
    key: 'totpIssuer',
    parse: (raw) => (raw === undefined ? 'Portcullis' : oneLine(64)(raw)),
  },
];

// RFC 7518 §3.2: an HS256 key must be at least 256 bits; production refuses anything weaker.
export const MIN_SECRET_BYTES = 32;
/** How many PREVIOUS_SECRET_KEYS: each one is one more try for a token or a sealed secret it never made. */
export const MAX_PREVIOUS_SECRETS = 4;

// Values copied from guides and templates: whoever else read them knows the key.
const PLACEHOLDER_SECRETS = new Set([
  'changethis',
  'changeme',
  'change-me',
  'change_me',
  'secret',
  'secret-key',
  'secret_key',
  'secretkey',
  'your-secret-key',
  'your_secret_key',
  'yoursecretkey',
  'supersecret',
  'super-secret',
  'mysecret',
  // The SECRET_KEY printed in FastAPI's OAuth2/JWT tutorial.
  '09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7',
]);

/**
 * What is wrong with a configured secret (SECRET_KEY or an entry of PREVIOUS_SECRET_KEYS), never
 * quoting it: too short in production, or a well-known placeholder outside development.
 */
export function secretProblems(name: string, raw: string, nodeEnv: NodeEnv): string[] {
  const problems: string[] = [];
  if (nodeEnv === 'production' && Buffer.byteLength(raw, 'utf8') < MIN_SECRET_BYTES) {
    problems.push(
      `${name}: must be at least ${MIN_SECRET_BYTES} bytes in production (try \`openssl rand -hex 32\`)`,
    );
  }
  if (nodeEnv !== 'development' && PLACEHOLDER_SECRETS.has(raw.trim().toLowerCase())) {
    problems.push(
      `${name}: is a well-known placeholder; set a random one (\`openssl rand -hex 32\`)`,
    );
  }
  return problems;
}
