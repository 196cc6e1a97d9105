// The provider's server-rendered pages (src/server/oauth-pages.ts): what they say, the forms they
// post, every value escaped (hostile app names, usernames and hidden fields), and the same
// strict-CSP rules as the static pages. Pure rendering: no server needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  authorizeErrorPage,
  consentPage,
  describeScopes,
  escapeHtml,
  logoutConfirmPage,
  signedOutPage,
} from '../../src/server/oauth-pages.ts';

const HOSTILE = `<script>alert(1)</script>"'&`;
const ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;';

const FIELDS = {
  response_type: 'code',
  client_id: 'abc_DEF-123',
  redirect_uri: 'http://127.0.0.1:8123/cb?x=1&y=2',
  scope: 'openid profile',
  state: HOSTILE,
  code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  code_challenge_method: 'S256',
};

/** The hidden inputs of the one form, as name → value (entities decoded). */
function hiddenInputs(html: string): Record<string, string> {
  const decode = (s: string) =>
    s
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&quot;', '"')
      .replaceAll('&#39;', "'")
      .replaceAll('&amp;', '&');
  const out: Record<string, string> = {};
  for (const [tag] of html.matchAll(/<input\b[^>]*>/g)) {
    assert.match(tag, /^<input type="hidden" name="[^"<>]*" value="[^"<>]*">$/, tag);
    const [, name = '', value = ''] = /name="([^"]*)" value="([^"]*)"/.exec(tag) ?? [];
    assert.ok(!(decode(name) in out), `one field ${name}`);
    out[decode(name)] = decode(value);
  }
  return out;
}

function form(html: string): string {
  const forms = html.match(/<form\b[^>]*>/g) ?? [];
  assert.equal(forms.length, 1, 'one form');
  return forms[0] as string;
}

function buttons(html: string): string[] {
  return [...html.matchAll(/<button\b([^>]*)>([^<]*)<\/button>/g)]
    .filter(([, attrs]) => /type="submit"/.test(attrs as string))
    .map(
      ([, attrs, label]) =>
        `${/name="(\w+)" value="(\w+)"/
          .exec(attrs as string)
          ?.slice(1)
          .join('=')} ${label}`,
    );
}

/** The checks of test/web/pages.test.ts for the static pages, applied to a rendered one. */
function assertStrictPage(name: string, html: string): void {
  for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) {
    assert.match(tag, /\ssrc="\/assets\/[\w-]+\.js"/, `${name}: ${tag}`);
  }
  assert.doesNotMatch(html, /<script\b[^>]*>[^<\s]/i, `${name}: script with a body`);
  assert.doesNotMatch(html, /<style\b/i, `${name}: <style>`);
  assert.doesNotMatch(html, /\sstyle\s*=/i, `${name}: style attribute`);
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, `${name}: event-handler attribute`);
  assert.doesNotMatch(html, /javascript:/i, `${name}: javascript: URL`);
  assert.doesNotMatch(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i, `${name}: external resource`);
  assert.doesNotMatch(html, /\{\{|\}\}/, `${name}: unfilled placeholder`);
  assert.doesNotMatch(html, /<!-- site-(head|header|footer) -->/, `${name}: unfilled slot`);
  assert.match(html, /<html lang="en">/, `${name}: language`);
  assert.match(html, /<link rel="stylesheet" href="\/assets\/app.css">/, `${name}: stylesheet`);
  assert.match(html, /<main id="main"/, `${name}: main landmark`);
  assert.match(html, /class="skip-link" href="#main"/, `${name}: skip link`);
  assert.match(html, /<header class="topbar">/, `${name}: the shared header`);
  assert.match(html, /<footer class="site-footer">/, `${name}: the shared footer`);
  // The only markup a hostile value may bring is its escaped text.
  assert.ok(!html.includes('<script>alert'), `${name}: raw hostile markup`);
  assert.ok(!html.includes(`"'&<`), `${name}: raw quote`);
}

const consent = (over: Partial<Parameters<typeof consentPage>[0]> = {}) =>
  consentPage({
    clientName: 'Photo Print',
    clientId: 'abc_DEF-123',
    username: 'alice',
    scopes: ['openid', 'profile', 'email', 'offline_access', 'read'],
    fields: FIELDS,
    csrfToken: 'csrf-token-value',
    ...over,
  });

describe('describeScopes', () => {
  it('says in words what each scope allows, each once, in the order asked', () => {
    const lines = describeScopes([
      'openid',
      'profile',
      'email',
      'offline_access',
      'read',
      'write',
      'admin',
      'read',
      'billing:export',
    ]);
    assert.deepEqual(
      lines.map((l) => l.scope),
      ['openid', 'profile', 'email', 'offline_access', 'read', 'write', 'admin', 'billing:export'],
    );
    const text = Object.fromEntries(lines.map((l) => [l.scope, l.text]));
    assert.equal(text.openid, 'Sign you in with your Portcullis account');
    assert.match(text.profile as string, /username/);
    assert.match(text.email as string, /email address and whether it is verified/);
    assert.match(text.offline_access as string, /stay signed in|keep access/i);
    assert.match(text.read as string, /read/i);
    assert.match(text.write as string, /change/i);
    assert.match(text.admin as string, /full administrative access/i);
    assert.match(text['billing:export'] as string, /“billing:export”/);
    assert.deepEqual(describeScopes([]), []);
    // Names of Object.prototype are scopes like any other, not lookups.
    assert.match(describeScopes(['constructor'])[0]?.text as string, /“constructor”/);
  });
});

describe('the browser’s copy of the scope texts (web/assets/scopes.js, for /account)', () => {
  it('says exactly what the consent page says', async () => {
    const file = new URL('../../web/assets/scopes.js', import.meta.url).href;
    const browser = (await import(file)) as {
      describeScopes(scopes: string | readonly string[]): Array<{ scope: string; text: string }>;
    };
    const scopes = [
      'openid',
      'profile',
      'email',
      'offline_access',
      'read',
      'write',
      'admin',
      'x:y',
    ];
    assert.deepEqual(browser.describeScopes(scopes), describeScopes(scopes));
    assert.deepEqual(
      browser.describeScopes('openid  read read'),
      describeScopes(['openid', 'read']),
    );
    assert.deepEqual(browser.describeScopes(['constructor']), describeScopes(['constructor']));
  });
});

describe('the consent page', () => {
  it('names the app and the user, lists each scope in words, and posts the request back', () => {
    const html = consent();
    assertStrictPage('consent', html);
    assert.match(html, /<h1[^>]*>Photo Print wants to access your Portcullis account<\/h1>/);
    assert.match(html, /Signed in as <strong[^>]*>alice<\/strong>/);
    assert.match(html, /<title>Allow Photo Print\? · Portcullis<\/title>/);
    for (const line of describeScopes(['openid', 'profile', 'email', 'offline_access', 'read'])) {
      assert.ok(html.includes(`<li data-scope="${line.scope}">${escapeHtml(line.text)}</li>`));
    }
    assert.ok(html.includes('<code>abc_DEF-123</code>'));
    assert.equal(
      form(html),
      '<form method="post" action="/authorize/decision" class="consent-actions">',
    );
    assert.deepEqual(hiddenInputs(html), { ...FIELDS, csrf_token: 'csrf-token-value' });
    assert.deepEqual(buttons(html), ['decision=allow Allow', 'decision=deny Deny']);
    // "Use another account": the same request after a fresh sign-in.
    const href = /<a href="([^"]*)">Use another account<\/a>/.exec(html)?.[1] ?? '';
    const link = new URL(href.replaceAll('&amp;', '&'), 'http://x');
    assert.equal(link.pathname, '/login');
    assert.equal(link.searchParams.get('reauth'), '1');
    const next = new URL(link.searchParams.get('next') ?? '', 'http://x');
    assert.equal(next.pathname, '/authorize');
    assert.deepEqual(Object.fromEntries(next.searchParams), FIELDS);
  });

  it('escapes a hostile app name, client id, username, scope and hidden field', () => {
    const html = consent({
      clientName: HOSTILE,
      clientId: HOSTILE,
      username: HOSTILE,
      scopes: ['openid', HOSTILE],
      fields: { ...FIELDS, [HOSTILE]: HOSTILE, nonce: '{{client_name}}' },
      csrfToken: HOSTILE,
    });
    // The nonce below is the one "{{…}}" left, as text; no placeholder may remain besides it.
    assertStrictPage('consent (hostile)', html.replace('value="{{client_name}}"', ''));
    assert.ok(html.includes(`<h1 class="consent-title">${ESCAPED} wants to access`));
    assert.ok(html.includes(`<title>Allow ${ESCAPED}? · Portcullis</title>`));
    assert.ok(html.includes(`<strong class="consent-user">${ESCAPED}</strong>`));
    assert.ok(html.includes(`<li data-scope="${ESCAPED}">Use the “${ESCAPED}” permission`));
    const hidden = hiddenInputs(html);
    assert.equal(hidden[HOSTILE], HOSTILE);
    assert.equal(hidden.state, HOSTILE);
    assert.equal(hidden.csrf_token, HOSTILE);
    // A value that looks like a placeholder stays literal text.
    assert.equal(hidden.nonce, '{{client_name}}');
    assert.equal(
      form(html),
      '<form method="post" action="/authorize/decision" class="consent-actions">',
    );
  });

  it('refuses request fields that would shadow the form’s own (a bug of the caller)', () => {
    assert.throws(() => consent({ fields: { ...FIELDS, csrf_token: 'x' } }), /reserved/);
    assert.throws(() => consent({ fields: { ...FIELDS, decision: 'allow' } }), /reserved/);
  });
});

describe('the authorize error page', () => {
  it('shows the title and detail, escaped, with a way home', () => {
    const html = authorizeErrorPage({
      title: 'This app is not registered',
      detail: 'The client_id is unknown.',
    });
    assertStrictPage('authorize error', html);
    assert.match(html, /<h1>This app is not registered<\/h1>/);
    assert.match(html, /<title>This app is not registered · Portcullis<\/title>/);
    assert.ok(html.includes('The client_id is unknown.'));
    assert.match(html, /<a class="btn btn-primary btn-block" href="\/">/);
    assert.doesNotMatch(html, /<form/);

    const hostile = authorizeErrorPage({ title: HOSTILE, detail: HOSTILE });
    assertStrictPage('authorize error (hostile)', hostile);
    assert.ok(hostile.includes(`<h1>${ESCAPED}</h1>`));
    assert.ok(hostile.includes(`<p class="oauth-detail">${ESCAPED}</p>`));
  });
});

describe('the signed-out page', () => {
  it('says so, naming the app when there is one, with a link to sign in again', () => {
    const plain = signedOutPage({});
    assertStrictPage('signed out', plain);
    assert.match(plain, /<h1[^>]*>You have signed out<\/h1>/);
    assert.match(plain, /href="\/login">Sign in again<\/a>/);
    assert.equal(signedOutPage({ clientName: undefined }), plain);

    const named = signedOutPage({ clientName: 'Photo Print' });
    assert.match(named, /<h1[^>]*>You have signed out of Photo Print<\/h1>/);
    const hostile = signedOutPage({ clientName: HOSTILE });
    assertStrictPage('signed out (hostile)', hostile);
    assert.ok(hostile.includes(`You have signed out of ${ESCAPED}</h1>`));
  });
});

describe('the logout confirmation page', () => {
  it('asks, naming the app when there is one, and posts the request back with the CSRF token', () => {
    const fields = {
      client_id: 'abc',
      post_logout_redirect_uri: 'https://a.example/bye',
      state: 's',
    };
    const html = logoutConfirmPage({ clientName: 'Photo Print', fields, csrfToken: 't0k' });
    assertStrictPage('logout confirm', html);
    assert.match(html, /<h1>Sign out of Portcullis\?<\/h1>/);
    assert.ok(html.includes('Photo Print asks to sign you out'));
    assert.equal(
      form(html),
      '<form method="post" action="/logout/confirm" class="consent-actions">',
    );
    assert.deepEqual(hiddenInputs(html), { ...fields, csrf_token: 't0k' });
    assert.deepEqual(buttons(html), [
      'decision=confirm Sign out',
      'decision=cancel Stay signed in',
    ]);

    const anonymous = logoutConfirmPage({ fields: {}, csrfToken: 't0k' });
    assertStrictPage('logout confirm (no app)', anonymous);
    assert.ok(anonymous.includes('An app asks to sign you out'));
    assert.deepEqual(hiddenInputs(anonymous), { csrf_token: 't0k' });

    const hostile = logoutConfirmPage({
      clientName: HOSTILE,
      fields: { state: HOSTILE },
      csrfToken: HOSTILE,
    });
    assertStrictPage('logout confirm (hostile)', hostile);
    assert.ok(hostile.includes(`${ESCAPED} asks to sign you out`));
    assert.deepEqual(hiddenInputs(hostile), { state: HOSTILE, csrf_token: HOSTILE });
  });
});
