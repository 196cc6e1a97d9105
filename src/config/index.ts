// Configuration: load (environment over .env) → validate every variable → freeze.
// The only module that reads process.env or .env.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { type IdentityProviderSettings, parseIdentityProviders } from './identity-providers.ts';
import { MAX_PREVIOUS_SECRETS, SETTINGS, type Settings, secretProblems } from './settings.ts';

export type { IdentityProviderSettings } from './identity-providers.ts';
export { isLoopbackHost } from './identity-providers.ts';
export type { Algorithm } from './settings.ts';

export interface Config extends Settings {
  /** Raw HMAC key bytes (SECRET_KEY as UTF-8, as PyJWT uses it). */
  readonly secretKey: Uint8Array;
  /** Older secrets (PREVIOUS_SECRET_KEYS, newest first): they verify and open, never sign or seal. */
  readonly previousSecretKeys: readonly Uint8Array[];
  /** Where the secret came from, for the start-up log line. */
  readonly secretSource: 'environment' | 'generated' | 'data-dir';
  /** Pepper for refresh-token hashes, when REFRESH_SECRET_KEY is set; otherwise derived. */
  readonly refreshSecretKey: Uint8Array | undefined;
  /** IDENTITY_PROVIDERS and their IDP_<NAME>_* settings (SPEC §9), in the order named. */
  readonly identityProviders: readonly IdentityProviderSettings[];
}

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadOptions {
  /** Defaults to process.env. Tests pass their own. */
  env?: Record<string, string | undefined>;
  /** Directory holding `.env`; defaults to process.cwd(). Pass null to ignore `.env`. */
  envFileDir?: string | null;
}

export function readEnvironment(options: LoadOptions = {}): Record<string, string | undefined> {
  const env = options.env ?? process.env;
  const dir = options.envFileDir === undefined ? process.cwd() : options.envFileDir;
  const file = dir === null ? undefined : join(dir, '.env');
  const fromFile = file && existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return { ...fromFile, ...env };
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = readEnvironment(options);
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const raw = env[setting.name];
    const given = raw === undefined || raw === '' ? undefined : raw;
    try {
      values[setting.key] = setting.parse(given, values as Partial<Settings>);
    } catch (error) {
      problems.push(`${setting.name}: ${(error as Error).message}`);
    }
  }
  // Read with the other settings, so one start-up names every bad variable at once.
  const publicUrl = typeof values.publicUrl === 'string' ? values.publicUrl : 'http://localhost';
  const identityProviders = parseIdentityProviders(env, publicUrl, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const settings = values as unknown as Settings;
  const secret = resolveSecret(env.SECRET_KEY, settings, problems);
  const previous = previousSecrets(env.PREVIOUS_SECRET_KEYS, secret.key, settings, problems);
  const refresh = env.REFRESH_SECRET_KEY;
  if (settings.nodeEnv === 'production' && refresh !== undefined && refresh.length < 32) {
    problems.push('REFRESH_SECRET_KEY: must be at least 32 bytes in production');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...settings,
    secretKey: secret.key,
    secretSource: secret.source,
    previousSecretKeys: Object.freeze(previous),
    refreshSecretKey: refresh ? Buffer.from(refresh, 'utf8') : undefined,
    identityProviders: Object.freeze(identityProviders),
  });
}

function resolveSecret(
  raw: string | undefined,
  settings: Settings,
  problems: string[],
): { key: Uint8Array; source: Config['secretSource'] } {
  const production = settings.nodeEnv === 'production';
  if (raw) {
    problems.push(...secretProblems('SECRET_KEY', raw, settings.nodeEnv));
    return { key: Buffer.from(raw, 'utf8'), source: 'environment' };
  }
  if (production) {
    // A generated secret would differ per instance and vanish with the disk: refuse in production.
    problems.push('SECRET_KEY: required when NODE_ENV=production (try `openssl rand -hex 32`)');
    return { key: new Uint8Array(), source: 'environment' };
  }
  const file = resolve(settings.dataDir, 'secret.key');
  if (existsSync(file)) {
    return { key: Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8'), source: 'data-dir' };
  }
  mkdirSync(settings.dataDir, { recursive: true });
  try {
    // 'wx': of two processes starting at once, one writes and both read the same secret.
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  chmodSync(file, 0o600);
  return { key: Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8'), source: 'generated' };
}

/**
 * PREVIOUS_SECRET_KEYS: a comma-separated list, newest first, each held to SECRET_KEY's rules. Problems
 * name an entry by its position, never by its value.
 */
function previousSecrets(
  raw: string | undefined,
  current: Uint8Array,
  settings: Settings,
  problems: string[],
): Uint8Array[] {
  const entries = (raw ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length > MAX_PREVIOUS_SECRETS) {
    problems.push(
      `PREVIOUS_SECRET_KEYS: at most ${MAX_PREVIOUS_SECRETS} secrets (drop the oldest once their tokens have expired)`,
    );
  }
  const keys: Uint8Array[] = [];
  entries.forEach((entry, i) => {
    problems.push(
      ...secretProblems(`PREVIOUS_SECRET_KEYS entry ${i + 1}`, entry, settings.nodeEnv),
    );
    const key = Buffer.from(entry, 'utf8');
    // The current secret or a repeat adds no key: it is left out rather than tried twice.
    if (!key.equals(current) && !keys.some((k) => key.equals(k))) keys.push(key);
  });
  return keys;
}
