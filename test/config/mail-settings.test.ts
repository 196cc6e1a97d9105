// The settings of mail, email verification and 2FA: defaults, parsing and refusals naming the variable.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const load = (env: Record<string, string>) =>
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

describe('mail, verification and 2FA settings', () => {
  it('default to the outbox, no verification required, the Portcullis issuer', () => {
    const config = load({});
    assert.equal(config.smtpUrl, undefined);
    assert.equal(config.requireVerifiedEmail, false);
    assert.equal(config.mailFrom, 'Portcullis <no-reply@localhost>');
    assert.equal(config.totpIssuer, 'Portcullis');
    assert.equal(
      load({ PUBLIC_URL: 'https://auth.example.com/x' }).mailFrom,
      'Portcullis <no-reply@auth.example.com>',
    );
  });

  it('read REQUIRE_VERIFIED_EMAIL as a boolean, refusing anything else', () => {
    for (const yes of ['true', 'TRUE', '1', 'yes', 'on']) {
      assert.equal(load({ REQUIRE_VERIFIED_EMAIL: yes }).requireVerifiedEmail, true, yes);
    }
    for (const no of ['false', '0', 'no', 'off']) {
      assert.equal(load({ REQUIRE_VERIFIED_EMAIL: no }).requireVerifiedEmail, false, no);
    }
    assert.match(
      problemsOf({ REQUIRE_VERIFIED_EMAIL: 'maybe' }).join(),
      /^REQUIRE_VERIFIED_EMAIL: must be true or false/,
    );
  });

  it('refuse a MAIL_FROM or TOTP_ISSUER that could inject a header line, and a MAIL_FROM without @', () => {
    assert.equal(
      load({ MAIL_FROM: 'Auth <auth@example.com>' }).mailFrom,
      'Auth <auth@example.com>',
    );
    assert.match(
      problemsOf({ MAIL_FROM: 'a@example.com\r\nBcc: x@evil.example' }).join(),
      /^MAIL_FROM:/,
    );
    assert.match(problemsOf({ MAIL_FROM: 'nobody' }).join(), /^MAIL_FROM: must be an address/);
    assert.equal(load({ TOTP_ISSUER: 'Acme Corp' }).totpIssuer, 'Acme Corp');
    assert.match(problemsOf({ TOTP_ISSUER: 'Acme\nCorp' }).join(), /^TOTP_ISSUER:/);
    assert.match(problemsOf({ TOTP_ISSUER: 'x'.repeat(65) }).join(), /^TOTP_ISSUER:/);
    assert.match(problemsOf({ SMTP_URL: 'http://mail.example.com' }).join(), /^SMTP_URL:/);
  });
});
