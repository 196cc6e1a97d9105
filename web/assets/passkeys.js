// Passkeys on /account: the list (name, when added, last use), adding one (named), renaming and
// removing.
import { addPasskey, passkeysSupported } from './passkey.js';
import { ApiError, api } from './session.js';
import {
  $,
  busy,
  clearAlert,
  clearFieldErrors,
  confirmDialog,
  el,
  formatDate,
  onSubmit,
  showAlert,
  showFieldErrors,
  timeAgo,
  toast,
} from './ui.js';

const section = $('[data-passkeys]');
const alert = $('[data-passkeys-alert]', section);
const list = $('[data-passkeys-list]', section);
const form = $('[data-form="passkey-add"]', section);

function failure(error, target = null) {
  if (error?.name === 'NotAllowedError' || error?.name === 'AbortError') {
    showAlert(alert, 'No passkey was created: the request was cancelled or timed out.', 'info');
  } else if (error?.name === 'InvalidStateError') {
    showAlert(alert, 'This device already holds a passkey for your account.', 'info');
  } else if (!(error instanceof ApiError)) {
    showAlert(alert, error?.message || 'The server cannot be reached. Try again.');
  } else if (target && error.body.errors) {
    showFieldErrors(target, error.fieldErrors(), alert);
  } else {
    showAlert(alert, error.message);
  }
}

function row(passkey) {
  const rename = el(
    'button',
    { type: 'button', class: 'btn btn-secondary btn-sm', 'aria-label': `Rename ${passkey.name}` },
    'Rename',
  );
  const remove = el(
    'button',
    {
      type: 'button',
      class: 'btn btn-danger-outline btn-sm',
      'aria-label': `Remove ${passkey.name}`,
    },
    'Remove',
  );
  rename.addEventListener('click', () => renamePasskey(passkey));
  remove.addEventListener('click', () => removePasskey(passkey, remove));
  const meta = [
    `Added ${formatDate(passkey.created_at)}`,
    passkey.last_used_at ? `Last used ${timeAgo(passkey.last_used_at)}` : 'Not used yet',
  ];
  return el(
    'li',
    { class: 'row', 'data-passkey-id': passkey.id },
    el(
      'div',
      { class: 'row-main' },
      el('span', { class: 'row-title', 'data-passkey-name': '' }, passkey.name),
      el('span', { class: 'row-meta' }, meta.join(' · ')),
    ),
    el('div', { class: 'row-actions' }, rename, remove),
  );
}

async function load() {
  try {
    const passkeys = await api('GET', '/users/me/passkeys');
    list.replaceChildren(
      ...(passkeys.length === 0
        ? [el('li', { class: 'empty' }, 'No passkeys yet.')]
        : passkeys.map(row)),
    );
  } catch (error) {
    failure(error);
  }
}

async function renamePasskey(passkey) {
  clearAlert(alert);
  const answer = await confirmDialog({
    title: 'Rename passkey',
    message: `A new name for “${passkey.name}”.`,
    confirm: 'Rename',
    fields: [{ name: 'name', label: 'Name', type: 'text', autocomplete: 'off' }],
  });
  if (!answer) return;
  try {
    await api('PATCH', `/users/me/passkeys/${encodeURIComponent(passkey.id)}`, {
      name: answer.name,
    });
    toast('Passkey renamed.');
  } catch (error) {
    failure(error);
  }
  await load();
}

async function removePasskey(passkey, button) {
  clearAlert(alert);
  const yes = await confirmDialog({
    title: 'Remove this passkey?',
    message: `“${passkey.name}” will no longer sign you in. Remove it from the device too, in its passkey settings.`,
    confirm: 'Remove passkey',
    danger: true,
  });
  if (!yes) return;
  await busy(button, 'Removing…', async () => {
    try {
      await api('DELETE', `/users/me/passkeys/${encodeURIComponent(passkey.id)}`);
      toast(`${passkey.name} has been removed.`);
    } catch (error) {
      failure(error);
    }
  });
  await load();
}

onSubmit(form, async (event) => {
  event.preventDefault();
  clearAlert(alert);
  clearFieldErrors(form);
  await busy($('[data-passkey-add]', form), 'Waiting for your device…', async () => {
    try {
      const added = await addPasskey(form.elements.name.value.trim());
      form.reset();
      toast(`Passkey “${added.name}” added. You can now sign in with it.`);
      await load();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'passkeys_disabled') form.hidden = true;
      failure(error, form);
    }
  });
});

export async function startPasskeys() {
  if (!passkeysSupported()) {
    $('[data-passkeys-unsupported]', section).hidden = false;
    form.hidden = true;
  }
  await load();
}
