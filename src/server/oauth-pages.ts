// The pages of the OAuth/OpenID provider that the server renders itself (SPEC §8): consent, the
// error page shown when the redirect URI cannot be trusted, RP-initiated logout's confirmation and
// its signed-out page. Templates live in web/oauth/ with the shared head, header and footer of every
// page; every value put into them is HTML-escaped, and they carry no inline script or style, so the
// strict Content-Security-Policy holds here too.
import { renderPage } from './routes/pages.ts';

export interface ScopeLine {
  scope: string;
  text: string;
}

const SCOPE_TEXT: Readonly<Record<string, string>> = {
  openid: 'Sign you in with your Portcullis account',
  profile: 'See your username',
  email: 'See your email address and whether it is verified',
  offline_access: 'Stay signed in: keep access to your account while you are not using the app',
  read: 'Read your data',
  write: 'Change your data',
  admin: 'Full administrative access: manage every user, app and setting of Portcullis',
};

/** Plain-words text per scope, in the order asked, each scope once. */
export function describeScopes(scopes: readonly string[]): ScopeLine[] {
  return [...new Set(scopes)]
    .filter((scope) => scope !== '')
    .map((scope) => ({
      scope,
      text: Object.hasOwn(SCOPE_TEXT, scope)
        ? (SCOPE_TEXT[scope] as string)
        : `Use the “${scope}” permission of your account`,
    }));
}

/** Markup built here from escaped parts, put into a template as is. */
class Markup {
  readonly html: string;
  constructor(html: string) {
    this.html = html;
  }
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for element content and quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

// Each template read and framed once: the files do not change while the server runs.
const framed = new Map<string, string>();

function template(file: string, path: string): string {
  let text = framed.get(file);
  if (text === undefined) {
    text = renderPage(path, file.includes('/') ? file : `oauth/${file}`);
    framed.set(file, text);
  }
  return text;
}

/**
 * Fills every {{name}} in one pass, so a value that itself contains "{{…}}" stays literal text.
 * A name the template uses but the caller did not give is a bug of this file: it throws.
 */
function fill(text: string, values: Readonly<Record<string, string | Markup>>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`oauth page: no value for {{${name}}}`);
    return value instanceof Markup ? value.html : escapeHtml(value);
  });
}

const RESERVED = new Set(['csrf_token', 'decision']);

// The request travels in hidden fields; the CSRF token rides along because the form's POST is a
// cookie-authenticated change, refused without it.
function hiddenFields(fields: Readonly<Record<string, string>>, csrfToken: string): Markup {
  const lines = Object.entries(fields).map(([name, value]) => {
    // The form's own fields must not be overridden by (or doubled with) the request's.
    if (RESERVED.has(name)) throw new Error(`oauth page: hidden field ${name} is reserved`);
    return hidden(name, value);
  });
  lines.push(hidden('csrf_token', csrfToken));
  return new Markup(lines.join('\n'));
}

function hidden(name: string, value: string): string {
  return `            <input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

function scopeItems(scopes: readonly string[]): Markup {
  const items = describeScopes(scopes).map(
    (line) =>
      `            <li data-scope="${escapeHtml(line.scope)}">${escapeHtml(line.text)}</li>`,
  );
  return new Markup(items.join('\n'));
}

// The same request again after a fresh sign-in (reauth=1: the sign-in page must not return at once
// with the current session); /login accepts only local paths as next, and this is one.
function switchAccount(fields: Readonly<Record<string, string>>): string {
  const next = `/authorize?${new URLSearchParams(fields).toString()}`;
  return `/login?${new URLSearchParams({ next, reauth: '1' }).toString()}`;
}

/** The consent page: the app by name, who is signed in, each scope in words, Allow and Deny. */
export function consentPage(input: {
  clientName: string;
  clientId: string;
  username: string;
  scopes: readonly string[];
  fields: Readonly<Record<string, string>>;
  csrfToken: string;
}): string {
  return fill(template('consent.html', '/authorize'), {
    client_name: input.clientName,
    client_id: input.clientId,
    username: input.username,
    switch_href: switchAccount(input.fields),
    scope_items: scopeItems(input.scopes),
    hidden_fields: hiddenFields(input.fields, input.csrfToken),
  });
}

/** The page shown (with status 400) when the request cannot be sent back to the app. */
export function authorizeErrorPage(input: { title: string; detail: string }): string {
  return fill(template('authorize-error.html', '/authorize'), {
    title: input.title,
    detail: input.detail,
  });
}

/** A sign-in through an identity provider that did not happen (SPEC §9): why, and what next. */
export function identityProblemPage(input: {
  title: string;
  provider: string;
  reason: string;
  detail: string;
  action: string;
  actionHref: string;
}): string {
  return fill(template('identity/problem.html', '/login'), {
    title: input.title,
    provider: input.provider,
    reason: input.reason,
    detail: input.detail,
    action: input.action,
    action_href: input.actionHref,
  });
}

/** After RP-initiated logout with no registered post-logout URI to return to. */
export function signedOutPage(input: { clientName?: string | undefined }): string {
  const app = input.clientName;
  return fill(template('signed-out.html', '/logout'), {
    heading: app ? `You have signed out of ${app}` : 'You have signed out',
    detail: app
      ? `${app} no longer has a Portcullis session for you.`
      : 'Your Portcullis session in this browser has ended.',
  });
}

/** RP-initiated logout without a valid id_token_hint: the user confirms (a link alone may not). */
export function logoutConfirmPage(input: {
  clientName?: string | undefined;
  fields: Readonly<Record<string, string>>;
  csrfToken: string;
}): string {
  const app = input.clientName;
  return fill(template('logout-confirm.html', '/logout'), {
    detail: app
      ? `${app} asks to sign you out of Portcullis in this browser.`
      : 'An app asks to sign you out of Portcullis in this browser.',
    hidden_fields: hiddenFields(input.fields, input.csrfToken),
  });
}
