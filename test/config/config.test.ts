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

  it('PREVIOUS_SECRET_KEYS: newest first, held to the rules of SECRET_KEY, never quoted in a problem', () => {
    const strong = 'a previous secret of more than 32 bytes';
    const config = loadConfig({
      env: {
        NODE_ENV: 'production',
        SECRET_KEY: 'x'.repeat(32),
        // Spaces around entries, an empty entry, a repeat and the current secret are ignored.
        PREVIOUS_SECRET_KEYS: ` ${strong} ,, y${'y'.repeat(32)},${strong},${'x'.repeat(32)}`,
        DATA_DIR: tempDir(),
      },
      envFileDir: null,
    });
    assert.deepEqual(
      config.previousSecretKeys.map((k) => Buffer.from(k).toString('utf8')),
      [strong, `y${'y'.repeat(32)}`],
    );
    assert.deepEqual(
      loadConfig({ env: { DATA_DIR: tempDir() }, envFileDir: null }).previousSecretKeys,
      [],
    );
    const short = problemsOf({
      NODE_ENV: 'production',
      SECRET_KEY: 'x'.repeat(32),
      PREVIOUS_SECRET_KEYS: `${strong},tiny-old-secret`,
    });
    assert.deepEqual(short, [
      'PREVIOUS_SECRET_KEYS entry 2: must be at least 32 bytes in production (try `openssl rand -hex 32`)',
    ]);
    const many = problemsOf({
      NODE_ENV: 'test',
      PREVIOUS_SECRET_KEYS: Array.from({ length: 5 }, (_, i) => `${i}${strong}`).join(','),
    });
    assert.match(many.join(), /PREVIOUS_SECRET_KEYS: at most 4 secrets/);
  });

  it('refuses well-known placeholder secrets outside development', () => {
    for (const NODE_ENV of ['production', 'test']) {
      assert.match(
        problemsOf({ NODE_ENV, SECRET_KEY: 'changethis' }).join(),
        /SECRET_KEY: is a well-known placeholder/,
      );
      assert.match(
        problemsOf({
          NODE_ENV,
          SECRET_KEY: 'z'.repeat(32),
          PREVIOUS_SECRET_KEYS: 'ChangeMe',
        }).join(),
        /PREVIOUS_SECRET_KEYS entry 1: is a well-known placeholder/,
      );
    }
    // FastAPI's tutorial key: long enough, but published.
    const tutorial = '09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7';
    const refused = problemsOf({ NODE_ENV: 'production', SECRET_KEY: tutorial });
    assert.match(refused.join(), /SECRET_KEY: is a well-known placeholder/);
    assert.doesNotMatch(refused.join(), new RegExp(tutorial));
    const dev = loadConfig({
      env: { SECRET_KEY: 'changethis', PREVIOUS_SECRET_KEYS: 'secret', DATA_DIR: tempDir() },
      envFileDir: null,
    });
    assert.equal(dev.previousSecretKeys.length, 1);
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
