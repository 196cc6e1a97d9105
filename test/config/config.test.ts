// Configuration: environment over .env, defaults, validation naming the variable, frozen result.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-config-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ env: { DATA_DIR: tempDir(), ...env }, envFileDir: null });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has the SPEC defaults', () => {
    const config = loadConfig({ env: { DATA_DIR: tempDir() }, envFileDir: null });
    assert.equal(config.algorithm, 'ES256');
    assert.equal(config.accessTokenTtlSeconds, 900);
    assert.equal(config.refreshTokenTtlSeconds, 7 * 86_400);
    assert.equal(config.issuer, 'http://localhost:8000');
    assert.equal(config.audience, 'http://localhost:8000');
    assert.equal(config.publicUrl, 'http://localhost:8000');
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8000);
    assert.deepEqual(config.scopes, ['read', 'write', 'admin']);
    assert.deepEqual(config.defaultScopes, ['read', 'write']);
    assert.match(config.databaseUrl, /^sqlite:.*portcullis\.db$/);
    assert.equal(config.nodeEnv, 'development');
    assert.ok(Object.isFrozen(config));
  });

  it('reads .env, and the environment wins over it', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, '.env'),
      'ALGORITHM=RS256\nACCESS_TOKEN_EXPIRE_MINUTES=5\nSECRET_KEY="from-dotenv-0123456789abcdef0123456789"\n',
    );
    const config = loadConfig({
      env: { DATA_DIR: dir, ACCESS_TOKEN_EXPIRE_MINUTES: '7' },
      envFileDir: dir,
    });
    assert.equal(config.algorithm, 'RS256');
    assert.equal(config.accessTokenTtlSeconds, 420);
    assert.equal(
      Buffer.from(config.secretKey).toString(),
      'from-dotenv-0123456789abcdef0123456789',
    );
  });

  it('generates a development secret once, kept private in DATA_DIR', () => {
    const dir = tempDir();
    const first = loadConfig({ env: { DATA_DIR: dir }, envFileDir: null });
    const second = loadConfig({ env: { DATA_DIR: dir }, envFileDir: null });
    assert.equal(first.secretSource, 'generated');
    assert.equal(second.secretSource, 'data-dir');
    assert.deepEqual(first.secretKey, second.secretKey);
    assert.equal(readFileSync(join(dir, 'secret.key'), 'utf8').trim().length, 64);
    assert.equal(statSync(join(dir, 'secret.key')).mode & 0o777, 0o600);
  });

  it('names every bad variable', () => {
    const problems = problemsOf({
      PORT: '70000',
      ISSUER: 'ftp://x',
      ACCESS_TOKEN_EXPIRE_MINUTES: '-1',
      REDIS_URL: 'http://x',
    });
    for (const name of ['PORT', 'ISSUER', 'ACCESS_TOKEN_EXPIRE_MINUTES', 'REDIS_URL']) {
      assert.ok(
        problems.some((p) => p.startsWith(`${name}:`)),
        `${name} in ${problems.join('; ')}`,
      );
    }
  });

  it('refuses admin among the default scopes and unknown default scopes', () => {
    assert.match(
      problemsOf({ DEFAULT_SCOPES: 'read admin' }).join(),
      /DEFAULT_SCOPES: must not include admin/,
    );
    assert.match(
      problemsOf({ DEFAULT_SCOPES: 'read fly' }).join(),
      /DEFAULT_SCOPES: names scopes missing/,
    );
  });

  it('production refuses missing, short or weak secrets and accepts a strong one', () => {
    assert.match(problemsOf({ NODE_ENV: 'production' }).join(), /SECRET_KEY: required/);
    assert.match(
      problemsOf({ NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(31) }).join(),
      /SECRET_KEY: must be at least 32 bytes/,
    );
    assert.match(
      problemsOf({
        NODE_ENV: 'production',
        SECRET_KEY: 'x'.repeat(32),
        REFRESH_SECRET_KEY: 'short',
      }).join(),
      /REFRESH_SECRET_KEY/,
    );
    const ok = loadConfig({
      env: { NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(32), DATA_DIR: tempDir() },
      envFileDir: null,
    });
    assert.equal(ok.secretSource, 'environment');
  });

  it('allows cheap password hashing only in tests', () => {
    assert.match(
      problemsOf({ PASSWORD_HASH_TIME_COST: '1' }).join(),
      /PASSWORD_HASH_TIME_COST: must be at least 2/,
    );
    const test = loadConfig({
      env: { NODE_ENV: 'test', PASSWORD_HASH_TIME_COST: '1', DATA_DIR: tempDir() },
      envFileDir: null,
    });
    assert.equal(test.passwordHashTimeCost, 1);
  });
});
