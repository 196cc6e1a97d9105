// Account and security: profile, password, passkeys (passkeys.js), signed-in devices, apps with access (apps.js), deleting
// the account.
import { startApps } from './apps.js';
import { startIdentities } from './identities.js';
import { startPage } from './layout.js';
import { startPasskeys } from './passkeys.js';
import { livePolicy } from './policy.js';
import { ApiError, api, signOut } from './session.js';
import { startTwoFactor } from './twofa.js';
import {
  $,
  $$,
  busy,
  clearAlert,
  clearFieldErrors,
  confirmDialog,
  describeDevice,
  el,
  formatDate,
  onSubmit,
  setFlash,
  showAlert,
  showFieldErrors,
  showView,
  timeAgo,
  toast,
} from './ui.js';
import { showVerifyOffer } from './verify-request.js';

let user = await startPage({ needs: 'user' });

function failure(error, form, alert) {
  if (!(error instanceof ApiError)) showAlert(alert, 'The server cannot be reached. Try again.');
  else if (form && (error.body.errors || error.code === 'user_exists'))
    showFieldErrors(form, error.fieldErrors(), alert);
  else showAlert(alert, error.message);
}

function setUser(next) {
  user = next;
  for (const node of $$('[data-username]')) node.textContent = user.username;
}

// Profile

const profile = $('[data-form="profile"]');
const profileAlert = $('[data-alert]', profile);

function fillProfile() {
  showVerifyOffer(user);
  profile.elements.email.value = user.email;
  profile.elements.username.value = user.username;
}

onSubmit(profile, async (event) => {
  event.preventDefault();
  clearAlert(profileAlert);
  clearFieldErrors(profile);
  const patch = {};
  const email = profile.elements.email.value.trim();
  const username = profile.elements.username.value.trim();
  if (email !== user.email) patch.email = email;
  if (username !== user.username) patch.username = username;
  if (Object.keys(patch).length === 0) {
    toast('Nothing to save: the profile is unchanged.');
    return;
  }
  await busy($('button[type="submit"]', profile), 'Saving…', async () => {
    try {
      setUser(await api('PATCH', '/users/me', patch));
      fillProfile();
      toast(
        patch.email
          ? 'Profile saved. Your new email address is not verified yet.'
          : 'Profile saved.',
      );
    } catch (error) {
      failure(error, profile, profileAlert);
    }
  });
});

// Password

const password = $('[data-form="password"]');
const passwordAlert = $('[data-alert]', password);
livePolicy(password.elements.new_password, $('[data-policy]', password), () => ({
  username: user.username,
  email: user.email,
}));

onSubmit(password, async (event) => {
  event.preventDefault();
  clearAlert(passwordAlert);
  clearFieldErrors(password);
  const body = {
    current_password: password.elements.current_password.value,
    new_password: password.elements.new_password.value,
  };
  if (!body.current_password || !body.new_password) {
    showFieldErrors(
      password,
      {
        ...(body.current_password ? {} : { current_password: 'Enter your current password.' }),
        ...(body.new_password ? {} : { new_password: 'Choose a new password.' }),
      },
      passwordAlert,
    );
    return;
  }
  await busy($('button[type="submit"]', password), 'Changing…', async () => {
    try {
      await api('POST', '/users/me/password', body);
      password.reset();
      for (const item of $$('[data-rule]', password)) delete item.dataset.state;
      toast('Password changed. Every other device has been signed out.');
      await loadSessions();
    } catch (error) {
      failure(error, password, passwordAlert);
    }
  });
});

// Signed-in devices

const list = $('[data-sessions]');
const sessionsAlert = $('[data-sessions-alert]');
const endOthers = $('[data-end-others]');

function sessionRow(session) {
  const device = describeDevice(session.user_agent);
  const meta = [
    session.ip ? `${session.ip}` : null,
    session.current ? 'Active now' : `Last active ${timeAgo(session.last_used_at)}`,
    `Signed in ${formatDate(session.created_at)}`,
  ].filter(Boolean);
  const action = session.current
    ? el('button', { type: 'button', class: 'btn btn-secondary btn-sm' }, 'Sign out')
    : el(
        'button',
        {
          type: 'button',
          class: 'btn btn-danger-outline btn-sm',
          'aria-label': `Sign out ${device.name}${session.ip ? ` at ${session.ip}` : ''}`,
        },
        'Sign out',
      );
  action.addEventListener('click', () => (session.current ? leave() : endSession(session, action)));
  return el(
    'li',
    { class: `row${session.current ? ' is-current' : ''}`, 'data-session-id': session.id },
    el(
      'span',
      { class: 'device-icon', 'aria-hidden': 'true' },
      el('img', { src: `/assets/device-${device.kind}.svg`, alt: '' }),
    ),
    el(
      'div',
      { class: 'row-main' },
      el(
        'span',
        { class: 'row-title' },
        device.name,
        session.current ? el('span', { class: 'badge badge-brand' }, 'This device') : null,
      ),
      el('span', { class: 'row-meta' }, meta.join(' · ')),
    ),
    el('div', { class: 'row-actions' }, action),
  );
}

async function loadSessions() {
  clearAlert(sessionsAlert);
  try {
    const sessions = await api('GET', '/users/me/sessions');
    sessions.sort(
      (a, b) => Number(b.current) - Number(a.current) || (a.last_used_at < b.last_used_at ? 1 : -1),
    );
    list.replaceChildren(...sessions.map(sessionRow));
    endOthers.disabled = sessions.every((s) => s.current);
  } catch (error) {
    failure(error, null, sessionsAlert);
  }
}

async function endSession(session, button) {
  await busy(button, 'Signing out…', async () => {
    try {
      await api('DELETE', `/users/me/sessions/${encodeURIComponent(session.id)}`);
      toast(`${describeDevice(session.user_agent).name} has been signed out.`);
    } catch (error) {
      failure(error, null, sessionsAlert);
    }
  });
  await loadSessions();
}

async function leave() {
  try {
    await signOut();
  } catch {
    // Signed out either way.
  }
  setFlash('You have signed out.', 'success');
  location.assign('/login');
}

endOthers.addEventListener('click', async () => {
  const yes = await confirmDialog({
    title: 'Sign out all other devices?',
    message:
      'Every browser and app signed in to your account, except this one, is signed out at once.',
    confirm: 'Sign them out',
  });
  if (!yes) return;
  try {
    await api('DELETE', '/users/me/sessions');
    toast('Every other device has been signed out.');
  } catch (error) {
    failure(error, null, sessionsAlert);
  }
  await loadSessions();
});

// Delete the account

const deleteAlert = $('[data-delete-alert]');
$('[data-delete]').addEventListener('click', async () => {
  clearAlert(deleteAlert);
  const answer = await confirmDialog({
    title: 'Delete your account?',
    message: `The account ${user.username} and all its sessions are removed. Enter your password to confirm.`,
    confirm: 'Delete account',
    danger: true,
    fields: [
      { name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password' },
    ],
  });
  if (!answer) return;
  try {
    await api('DELETE', '/users/me', { password: answer.password });
    localStorage.removeItem('portcullis.session');
    setFlash('Your account has been deleted.', 'success');
    location.assign('/');
  } catch (error) {
    showAlert(
      deleteAlert,
      error instanceof ApiError ? error.message : 'The server cannot be reached.',
    );
  }
});

if (user) {
  fillProfile();
  showView('user');
  await Promise.all([
    loadSessions(),
    startTwoFactor(),
    startPasskeys(),
    startApps({ onRevoked: loadSessions }),
    startIdentities(),
  ]);
}
