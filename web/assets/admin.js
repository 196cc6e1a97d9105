// Administration (superusers): find users, switch their rights, sign them out, register OAuth
// clients (clients.js), read the audit log.
import { loadAudit } from './audit.js';
import { startClients } from './clients.js';
import { startPage } from './layout.js';
import { ApiError, api } from './session.js';
import {
  $,
  busy,
  clearAlert,
  confirmDialog,
  el,
  formatDay,
  initials,
  showAlert,
  showView,
  toast,
} from './ui.js';

const me = await startPage({ needs: 'user' });
const usersList = $('[data-users]');
const usersAlert = $('[data-users-alert]');
const more = $('[data-more]');
const auditBox = $('[data-audit]');
const nameOf = (id) => names.get(id);
let cursor = null;
let query = '';
let grantable = [];
// Usernames of the users seen so far, to name the actors and subjects of the audit log.
const names = new Map();

function problem(error) {
  return error instanceof ApiError ? error.message : 'The server cannot be reached. Try again.';
}

function badges(user) {
  return el(
    'span',
    { class: 'badges' },
    user.is_active
      ? el('span', { class: 'badge badge-success' }, 'Active')
      : el('span', { class: 'badge badge-danger' }, 'Disabled'),
    user.is_superuser ? el('span', { class: 'badge badge-brand' }, 'Administrator') : null,
    user.is_verified ? null : el('span', { class: 'badge badge-warning' }, 'Unverified'),
    user.id === me?.id ? el('span', { class: 'badge' }, 'You') : null,
  );
}

async function change(user, patch, button, done) {
  clearAlert(usersAlert);
  await busy(button, 'Saving…', async () => {
    try {
      const updated = await api('PATCH', `/admin/users/${encodeURIComponent(user.id)}`, patch);
      $(`[data-user-id="${user.id}"]`)?.replaceWith(userRow(updated));
      toast(done(updated));
    } catch (error) {
      showAlert(usersAlert, problem(error));
    }
  });
}

async function toggleActive(user, button) {
  if (user.is_active) {
    const yes = await confirmDialog({
      title: `Deactivate ${user.username}?`,
      message: 'They are signed out everywhere at once and cannot sign in until reactivated.',
      confirm: 'Deactivate',
      danger: true,
    });
    if (!yes) return;
  }
  await change(user, { is_active: !user.is_active }, button, (u) =>
    u.is_active
      ? `${u.username} can sign in again.`
      : `${u.username} is deactivated and signed out.`,
  );
}

async function toggleSuperuser(user, button) {
  await change(user, { is_superuser: !user.is_superuser }, button, (u) =>
    u.is_superuser
      ? `${u.username} is now an administrator.`
      : `${u.username} is no longer an administrator.`,
  );
}

async function endSessions(user, button) {
  const yes = await confirmDialog({
    title: `Sign ${user.username} out everywhere?`,
    message: 'Every session of this user ends at once; they can sign in again.',
    confirm: 'Sign out everywhere',
  });
  if (!yes) return;
  clearAlert(usersAlert);
  await busy(button, 'Signing out…', async () => {
    try {
      await api('DELETE', `/admin/users/${encodeURIComponent(user.id)}/sessions`);
      toast(`${user.username} has been signed out everywhere.`);
    } catch (error) {
      showAlert(usersAlert, problem(error));
    }
  });
}

function scopesEditor(user, row) {
  const boxes = grantable.map((scope) =>
    el(
      'label',
      {},
      el('input', {
        type: 'checkbox',
        name: 'scope',
        value: scope,
        checked: user.scopes.includes(scope),
      }),
      el('code', {}, scope),
    ),
  );
  const save = el('button', { type: 'submit', class: 'btn btn-primary btn-sm' }, 'Save scopes');
  const cancel = el('button', { type: 'button', class: 'btn btn-secondary btn-sm' }, 'Cancel');
  const form = el(
    'form',
    { class: 'row-extra' },
    el(
      'fieldset',
      {},
      el('legend', {}, `Scopes of ${user.username}`),
      el('div', { class: 'checks' }, boxes),
      el(
        'p',
        { class: 'hint' },
        'Administrators also hold the admin scope, which follows the role.',
      ),
    ),
    el('div', { class: 'form-actions' }, save, cancel),
  );
  cancel.addEventListener('click', () => form.remove());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const scopes = boxes
      .map((b) => $('input', b))
      .filter((i) => i.checked)
      .map((i) => i.value);
    change(user, { scopes }, save, (u) => `Scopes of ${u.username} saved.`);
  });
  row.append(form);
  $('input', form)?.focus();
}

function action(label, onClick, options = {}) {
  const button = el(
    'button',
    {
      type: 'button',
      class: `btn btn-sm ${options.danger ? 'btn-danger-outline' : 'btn-secondary'}`,
      'aria-label': options.aria,
      disabled: options.disabled,
      title: options.title,
    },
    label,
  );
  button.addEventListener('click', () => onClick(button));
  return button;
}

// Passkeys per user, from the list (a PATCH answer is the plain user, without the count).
const passkeyCounts = new Map();

function passkeyText(user) {
  if (typeof user.passkey_count === 'number') passkeyCounts.set(user.id, user.passkey_count);
  const count = passkeyCounts.get(user.id);
  if (count === undefined) return '';
  return ` · ${count} ${count === 1 ? 'passkey' : 'passkeys'}`;
}

function userRow(user) {
  names.set(user.id, user.username);
  const self = user.id === me?.id;
  const selfNote = self ? 'You cannot do this to your own account here.' : undefined;
  const row = el(
    'li',
    { class: 'row', 'data-user-id': user.id, 'data-username': user.username },
    el('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(user.username)),
    el(
      'div',
      { class: 'row-main' },
      el('span', { class: 'row-title' }, user.username, badges(user)),
      el(
        'span',
        { class: 'row-meta' },
        `${user.email} · scopes: ${user.scopes.join(' ') || 'none'} · joined ${formatDay(user.created_at)}${passkeyText(user)}`,
      ),
    ),
  );
  const actions = el(
    'div',
    { class: 'row-actions' },
    action(user.is_active ? 'Deactivate' : 'Activate', (b) => toggleActive(user, b), {
      danger: user.is_active,
      disabled: self,
      title: selfNote,
      aria: `${user.is_active ? 'Deactivate' : 'Activate'} ${user.username}`,
    }),
    action(user.is_superuser ? 'Remove admin' : 'Make admin', (b) => toggleSuperuser(user, b), {
      disabled: self,
      title: selfNote,
      aria: `${user.is_superuser ? 'Remove administrator rights from' : 'Make administrator:'} ${user.username}`,
    }),
    action('Scopes…', () => scopesEditor(user, row), {
      aria: `Edit the scopes of ${user.username}`,
    }),
    action('Sign out everywhere', (b) => endSessions(user, b), {
      aria: `Sign ${user.username} out everywhere`,
    }),
  );
  row.append(actions);
  return row;
}

let loads = 0;

async function loadUsers(reset) {
  // Only the latest search may render: an earlier, slower answer must not overwrite it.
  const mine = ++loads;
  clearAlert(usersAlert);
  usersList.setAttribute('aria-busy', 'true');
  const params = new URLSearchParams({ limit: '20' });
  if (query) params.set('q', query);
  if (!reset && cursor) params.set('cursor', cursor);
  try {
    const page = await api('GET', `/admin/users?${params}`);
    if (mine !== loads) return;
    const rows = page.items.map(userRow);
    if (reset) usersList.replaceChildren(...rows);
    else usersList.append(...rows);
    if (reset && rows.length === 0) {
      usersList.replaceChildren(el('li', { class: 'empty' }, `No user matches “${query}”.`));
    }
    cursor = page.next_cursor;
    more.hidden = !cursor;
  } catch (error) {
    if (mine === loads) showAlert(usersAlert, problem(error));
  } finally {
    if (mine === loads) usersList.setAttribute('aria-busy', 'false');
  }
}

$('[data-form="search"]').addEventListener('submit', (event) => {
  event.preventDefault();
  query = event.target.elements.q.value.trim();
  loadUsers(true);
});
more.addEventListener('click', () => loadUsers(false));
$('[data-audit-reload]').addEventListener('click', () => loadAudit(auditBox, nameOf));

if (me && !me.is_superuser) showView('denied');
if (me?.is_superuser) {
  names.set(me.id, me.username);
  const metadata = await fetch('/.well-known/oauth-authorization-server').then((r) => r.json());
  grantable = (metadata.scopes_supported ?? []).filter((s) => s !== 'admin');
  showView('admin');
  await loadUsers(true);
  // Client changes are audited: the log below follows them.
  await Promise.all([
    startClients({ onChange: () => loadAudit(auditBox, nameOf) }),
    loadAudit(auditBox, nameOf),
  ]);
}
