// "Apps with access" on /account: the apps the user let in (GET /users/me/apps), what each may do,
// when it was last used, and Revoke (DELETE /users/me/apps/{client_id}), which signs the app out
// and forgets the consent.
import { describeScopes } from './scopes.js';
import { ApiError, api } from './session.js';
import {
  $,
  busy,
  clearAlert,
  confirmDialog,
  el,
  formatDate,
  showAlert,
  timeAgo,
  toast,
} from './ui.js';

const section = $('[data-apps]');
const list = $('[data-apps-list]', section);
const alert = $('[data-apps-alert]', section);
let afterRevoke = () => {};

function appRow(app) {
  const meta = [
    app.last_used_at ? `Last used ${timeAgo(app.last_used_at)}` : 'Not used yet',
    app.consented_at ? `Allowed ${formatDate(app.consented_at)}` : null,
  ].filter(Boolean);
  const revoke = el(
    'button',
    { type: 'button', class: 'btn btn-danger-outline btn-sm', 'aria-label': `Revoke ${app.name}` },
    'Revoke',
  );
  revoke.addEventListener('click', () => revokeApp(app, revoke));
  return el(
    'li',
    { class: 'row', 'data-app-id': app.client_id },
    el(
      'div',
      { class: 'row-main' },
      el(
        'span',
        { class: 'row-title' },
        app.name,
        app.first_party ? el('span', { class: 'badge' }, 'Portcullis app') : null,
      ),
      el(
        'ul',
        { class: 'app-scopes', 'aria-label': `What ${app.name} can do` },
        describeScopes(app.scope).map((line) => el('li', { 'data-scope': line.scope }, line.text)),
      ),
      el('span', { class: 'row-meta' }, meta.join(' · ')),
    ),
    el('div', { class: 'row-actions' }, revoke),
  );
}

async function load() {
  clearAlert(alert);
  list.setAttribute('aria-busy', 'true');
  try {
    const apps = await api('GET', '/users/me/apps');
    apps.sort((a, b) => ((a.last_used_at ?? '') < (b.last_used_at ?? '') ? 1 : -1));
    list.replaceChildren(...apps.map(appRow));
    if (apps.length === 0) {
      list.replaceChildren(el('li', { class: 'empty' }, 'No apps have access to your account.'));
    }
  } catch (error) {
    // Quiet: the rest of the account page keeps working whatever this list does.
    list.replaceChildren();
    showAlert(
      alert,
      error instanceof ApiError && error.status !== 404
        ? `The apps cannot be shown right now. ${error.message}`
        : 'The apps with access to your account cannot be shown right now.',
      'info',
    );
  } finally {
    list.setAttribute('aria-busy', 'false');
  }
}

async function revokeApp(app, button) {
  const yes = await confirmDialog({
    title: `Revoke access for ${app.name}?`,
    message:
      'It is signed out of your account at once and has to ask for your permission again before it can use it.',
    confirm: 'Revoke access',
    danger: true,
  });
  if (!yes) return;
  clearAlert(alert);
  await busy(button, 'Revoking…', async () => {
    try {
      await api('DELETE', `/users/me/apps/${encodeURIComponent(app.client_id)}`);
      toast(`${app.name} no longer has access to your account.`);
    } catch (error) {
      showAlert(alert, error instanceof ApiError ? error.message : 'The server cannot be reached.');
    }
  });
  await Promise.all([load(), afterRevoke()]);
}

/** Loads the list; `onRevoked` runs after a revocation (the app's sessions are gone too). */
export function startApps({ onRevoked } = {}) {
  if (onRevoked) afterRevoke = onRevoked;
  return load();
}
