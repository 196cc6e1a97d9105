// IDENTITY_PROVIDERS and IDP_<NAME>_* (SPEC §9), and ALLOW_SIGNUP: read and checked at start-up,
// every problem naming its variable.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

const dirs: string[] = [];
const load = (env: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-idp-config-'));
  dirs.push(dir);
  return loadConfig({ env: { DATA_DIR: dir, ...env }, envFileDir: null });
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function problemsOf(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('identity provider settings', () => {
  it('has none by default, and signup on', () => {
    const config = load({});
    assert.deepEqual(config.identityProviders, []);
    assert.equal(config.allowSignup, true);
    assert.equal(load({ ALLOW_SIGNUP: 'false' }).allowSignup, false);
  });

  it('reads each named provider, with the defaults of SPEC §9', () => {
    const config = load({
      PUBLIC_URL: 'https://auth.example.com',
      IDENTITY_PROVIDERS: 'Google, github',
      IDP_GOOGLE_ISSUER: 'https://accounts.google.com',
      IDP_GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com',
      IDP_GOOGLE_CLIENT_SECRET: 'shh',
      IDP_GITHUB_CLIENT_ID: 'Iv1.abc',
      IDP_GITHUB_CLIENT_SECRET: 'also-shh',
      IDP_GITHUB_LABEL: 'Continue with GitHub',
    });
    const [google, github] = config.identityProviders;
    assert.equal(google?.name, 'google');
    assert.equal(google?.kind, 'oidc');
    assert.equal(google?.issuer, 'https://accounts.google.com');
    assert.deepEqual(google?.scopes, ['openid', 'email', 'profile']);
    assert.equal(google?.label, 'Sign in with Google');
    assert.equal(google?.displayName, 'Google');
    assert.equal(google?.redirectUri, 'https://auth.example.com/auth/google/callback');
    // github without an issuer: GitHub's OAuth 2.0 endpoints and REST API.
    assert.equal(github?.kind, 'github');
    assert.equal(github?.issuer, 'https://github.com');
    assert.equal(github?.apiUrl, 'https://api.github.com');
    assert.equal(github?.label, 'Continue with GitHub');
    assert.equal(github?.displayName, 'GitHub');
    assert.ok(Object.isFrozen(config.identityProviders));
  });

  it('accepts a public client (empty secret) and a github name with an issuer as OpenID', () => {
    const [p] = load({
      IDENTITY_PROVIDERS: 'github',
      IDP_GITHUB_ISSUER: 'https://token.actions.githubusercontent.com',
      IDP_GITHUB_CLIENT_ID: 'x',
      IDP_GITHUB_CLIENT_SECRET: '',
    }).identityProviders;
    assert.equal(p?.kind, 'oidc');
    assert.equal(p?.clientSecret, '');
  });

  it('allows http:// issuers only on loopback', () => {
    for (const issuer of [
      'http://127.0.0.1:9000',
      'http://localhost:8080/realms/x',
      'http://[::1]:1',
    ]) {
      const [p] = load({
        IDENTITY_PROVIDERS: 'dev',
        IDP_DEV_ISSUER: issuer,
        IDP_DEV_CLIENT_ID: 'x',
      }).identityProviders;
      assert.equal(p?.issuer, issuer);
    }
    const problems = problemsOf({
      IDENTITY_PROVIDERS: 'corp',
      IDP_CORP_ISSUER: 'http://idp.example.com',
      IDP_CORP_CLIENT_ID: 'x',
    });
    assert.deepEqual(problems, [
      'IDP_CORP_ISSUER: must be https:// (http:// only for a loopback host)',
    ]);
  });

  it('names every bad variable', () => {
    const problems = problemsOf({
      IDENTITY_PROVIDERS: 'okta,bad-name,okta,keycloak,gitlab',
      IDP_OKTA_ISSUER: 'not a url',
      IDP_KEYCLOAK_CLIENT_ID: 'x',
      IDP_GITLAB_ISSUER: 'https://gitlab.com/?x=1',
      IDP_GITLAB_CLIENT_ID: 'x',
      IDP_GITLAB_SCOPES: 'email profile',
      ALLOW_SIGNUP: 'perhaps',
    });
    const names = problems.map((p) => p.split(':')[0]);
    assert.deepEqual(names.sort(), [
      'ALLOW_SIGNUP',
      'IDENTITY_PROVIDERS',
      'IDENTITY_PROVIDERS',
      'IDP_GITLAB_ISSUER',
      'IDP_GITLAB_SCOPES',
      'IDP_KEYCLOAK_ISSUER',
      'IDP_OKTA_CLIENT_ID',
      'IDP_OKTA_ISSUER',
    ]);
  });
});
