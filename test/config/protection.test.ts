// Settings of the protections: lockout, rate limits and Redis, their defaults and their validation.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type Config, ConfigError, loadConfig } from '../../src/config/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const load = (env: Record<string, string> = {}): Config =>
  loadConfig({ env: { DATA_DIR: dir, ...env }, envFileDir: null });

function problemsOf(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('protection settings', () => {
  it('have documented defaults: delays from the 5th failure, 30 s doubling up to 15 min', () => {
    const config = load();
    assert.equal(config.lockoutThreshold, 5);
    assert.equal(config.lockoutBaseSeconds, 30);
    assert.equal(config.lockoutMaxSeconds, 900);
    assert.equal(config.lockoutWindowSeconds, 86_400);
    assert.equal(config.lockoutQueueSeconds, 5);
    assert.equal(config.redisPrefix, 'portcullis:');
    assert.deepEqual(config.rateLimitToken, { max: 30, windowSeconds: 60 });
    assert.deepEqual(config.rateLimitLogin, { max: 30, windowSeconds: 60 });
    assert.deepEqual(config.rateLimitRefresh, { max: 60, windowSeconds: 60 });
    assert.deepEqual(config.rateLimitRegister, { max: 20, windowSeconds: 3600 });
    assert.deepEqual(config.rateLimitPassword, { max: 10, windowSeconds: 3600 });
    assert.deepEqual(config.rateLimitTotp, { max: 10, windowSeconds: 60 });
  });

  it('read rate limits as requests/window, the window in seconds, s, m or h', () => {
    assert.deepEqual(load({ RATE_LIMIT_TOKEN: '5/90' }).rateLimitToken, {
      max: 5,
      windowSeconds: 90,
    });
    assert.deepEqual(load({ RATE_LIMIT_TOKEN: '100 / 2h' }).rateLimitToken, {
      max: 100,
      windowSeconds: 7200,
    });
    assert.deepEqual(load({ RATE_LIMIT_TOTP: '3/15s' }).rateLimitTotp, {
      max: 3,
      windowSeconds: 15,
    });
  });

  it('refuse malformed values, naming the variable', () => {
    for (const [name, value] of [
      ['RATE_LIMIT_TOKEN', 'many'],
      ['RATE_LIMIT_LOGIN', '0/1m'],
      ['RATE_LIMIT_REGISTER', '10/2d'],
      ['RATE_LIMIT_PASSWORD', '10/25h'],
      ['RATE_LIMIT_REFRESH', '-1/1m'],
      ['LOCKOUT_THRESHOLD', '0'],
      ['LOCKOUT_BASE_SECONDS', 'ten'],
      ['LOCKOUT_WINDOW_SECONDS', '10'],
      ['LOCKOUT_QUEUE_SECONDS', '0'],
      ['REDIS_PREFIX', 'has space'],
      ['REDIS_URL', 'localhost:6379'],
    ] as const) {
      const problems = problemsOf({ [name]: value });
      assert.equal(problems.length, 1, `${name}=${value}: ${problems.join('; ')}`);
      assert.match(problems[0] ?? '', new RegExp(`^${name}: `));
    }
  });

  it('never allow a delay without end, nor a maximum below the base', () => {
    assert.match(problemsOf({ LOCKOUT_MAX_SECONDS: '86401' })[0] ?? '', /LOCKOUT_MAX_SECONDS/);
    assert.match(
      problemsOf({ LOCKOUT_BASE_SECONDS: '60', LOCKOUT_MAX_SECONDS: '30' })[0] ?? '',
      /LOCKOUT_MAX_SECONDS: must not be below LOCKOUT_BASE_SECONDS/,
    );
  });

  it('accept TRUST_PROXY as addresses, CIDRs or proxy-addr keywords, and refuse true or a hop count', () => {
    const given = '127.0.0.1, 10.0.0.0/8 ::1 fd00::/8,loopback';
    assert.equal(load({ TRUST_PROXY: given }).trustProxy, given);
    for (const value of ['true', '1', '10.0.0.0/33', 'proxy.example', '10.0.0.1/8/2']) {
      const problems = problemsOf({ TRUST_PROXY: value });
      assert.equal(problems.length, 1, value);
      assert.match(problems[0] ?? '', /^TRUST_PROXY: .* \(name the proxies\)$/);
    }
  });
});
