// Administration: the OAuth clients (GET/POST /admin/clients, DELETE /admin/clients/{id},
// POST /admin/clients/{id}/secret). A confidential client's secret is shown once, right after it is
// made, and never again: the server keeps only a hash.
import { ApiError, api } from './session.js';
import {
  $,
  $$,
  busy,
  clearAlert,
  clearFieldErrors,
  confirmDialog,
  el,
  formatDay,
  onSubmit,
  showAlert,
  toast,
} from './ui.js';

const list = $('[data-clients]');
const alert = $('[data-clients-alert]');
const more = $('[data-clients-more]');
const form = $('[data-form="client"]');
const formAlert = $('[data-client-form-alert]');
const secretBox = $('[data-client-secret]');
const newButton = $('[data-client-new]');
let cursor = null;
let loads = 0;
let changed = () => {};

const GRANT_NAMES = {
  authorization_code: 'authorization code',
  refresh_token: 'refresh token',
  client_credentials: 'client credentials',
};

function problem(error) {
  return error instanceof ApiError ? error.message : 'The server cannot be reached. Try again.';
}

const lines = (text) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

function confidential(client) {
  return client.token_endpoint_auth_method !== 'none';
}

function clientRow(client) {
  const meta = [
    `client_id ${client.client_id}`,
    `grants: ${client.grant_types.map((g) => GRANT_NAMES[g] ?? g).join(', ') || 'none'}`,
    `scope: ${client.scope || 'none'}`,
    `registered ${formatDay(client.created_at)}`,
  ];
  const actions = el('div', { class: 'row-actions' });
  if (confidential(client)) {
    const rotate = el(
      'button',
      {
        type: 'button',
        class: 'btn btn-secondary btn-sm',
        'aria-label': `Rotate the secret of ${client.name}`,
      },
      'Rotate secret',
    );
    rotate.addEventListener('click', () => rotateSecret(client, rotate));
    actions.append(rotate);
  }
  const remove = el(
    'button',
    {
      type: 'button',
      class: 'btn btn-danger-outline btn-sm',
      'aria-label': `Delete ${client.name}`,
    },
    'Delete',
  );
  remove.addEventListener('click', () => deleteClient(client, remove));
  actions.append(remove);
  return el(
    'li',
    { class: 'row', 'data-client-id': client.client_id },
    el(
      'div',
      { class: 'row-main' },
      el(
        'span',
        { class: 'row-title' },
        client.name,
        el(
          'span',
          { class: 'badges' },
          confidential(client)
            ? el('span', { class: 'badge badge-brand' }, 'Confidential')
            : el('span', { class: 'badge' }, 'Public'),
          client.first_party ? el('span', { class: 'badge badge-success' }, 'First-party') : null,
        ),
      ),
      el('span', { class: 'row-meta' }, meta.join(' · ')),
      client.redirect_uris.length > 0
        ? el('span', { class: 'row-meta' }, `Redirect URIs: ${client.redirect_uris.join(', ')}`)
        : null,
    ),
    actions,
  );
}

function showEmpty() {
  if (list.children.length === 0) {
    list.replaceChildren(el('li', { class: 'empty' }, 'No clients are registered yet.'));
  }
}

export async function loadClients(reset = true) {
  // Only the latest load may render: an earlier, slower answer must not overwrite it.
  const mine = ++loads;
  clearAlert(alert);
  list.setAttribute('aria-busy', 'true');
  const params = new URLSearchParams({ limit: '20' });
  if (!reset && cursor) params.set('cursor', cursor);
  try {
    const page = await api('GET', `/admin/clients?${params}`);
    if (mine !== loads) return;
    const rows = page.items.map(clientRow);
    if (reset) list.replaceChildren(...rows);
    else {
      $('.empty', list)?.remove();
      list.append(...rows);
    }
    showEmpty();
    cursor = page.next_cursor;
    more.hidden = !cursor;
  } catch (error) {
    if (mine === loads) showAlert(alert, problem(error));
  } finally {
    if (mine === loads) list.setAttribute('aria-busy', 'false');
  }
}

/** Loads the first page; `onChange` runs after each registration, rotation or deletion. */
export function startClients({ onChange } = {}) {
  if (onChange) changed = onChange;
  return loadClients(true);
}

/** Shows a client_id and, once, a secret; the box stays until the admin says it is saved. */
function revealSecret(client, secret) {
  $('[data-secret-name]', secretBox).textContent = client.name;
  $('[data-secret-id]', secretBox).textContent = client.client_id;
  $('[data-secret-value]', secretBox).textContent = secret ?? '';
  for (const node of $$('[data-secret-row]', secretBox)) node.hidden = !secret;
  secretBox.hidden = false;
  secretBox.focus();
}

function forgetSecret() {
  // The secret leaves the page as soon as it is not needed: nothing keeps it after this.
  $('[data-secret-value]', secretBox).textContent = '';
  secretBox.hidden = true;
}

for (const button of $$('[data-copy]', secretBox)) {
  button.addEventListener('click', async () => {
    const node = $(button.dataset.copy === 'id' ? '[data-secret-id]' : '[data-secret-value]');
    try {
      await navigator.clipboard.writeText(node.textContent);
      toast('Copied to the clipboard.');
    } catch {
      // No clipboard access (permissions, plain http): selecting the text lets the admin copy it.
      getSelection()?.selectAllChildren(node);
      toast('Press Ctrl+C (⌘C) to copy the selected text.');
    }
  });
}
$('[data-secret-done]', secretBox).addEventListener('click', forgetSecret);

function openForm() {
  forgetSecret();
  form.reset();
  clearAlert(formAlert);
  clearFieldErrors(form);
  form.hidden = false;
  newButton.hidden = true;
  form.elements.name.focus();
}

function closeForm() {
  form.hidden = true;
  newButton.hidden = false;
}

function formBody() {
  const f = form.elements;
  const body = {
    name: f.name.value.trim(),
    redirect_uris: lines(f.redirect_uris.value),
    post_logout_redirect_uris: lines(f.post_logout_redirect_uris.value),
    grant_types: $$('input[name="grant_types"]', form)
      .filter((box) => box.checked)
      .map((box) => box.value),
    token_endpoint_auth_method: f.confidential.checked ? 'client_secret_basic' : 'none',
    first_party: f.first_party.checked,
  };
  const scope = f.scope.value.trim().split(/\s+/).filter(Boolean).join(' ');
  if (scope) body.scope = scope;
  return body;
}

/** Field messages beside their fields (inputs and textareas alike); the rest above the form. */
function showErrors(errors) {
  clearFieldErrors(form);
  const leftover = [];
  let first = null;
  for (const [field, message] of Object.entries(errors)) {
    const slot = $(`[data-error-for="${field}"]`, form);
    if (!slot) {
      leftover.push(message);
      continue;
    }
    slot.textContent = message;
    slot.hidden = false;
    const input = form.elements.namedItem(field);
    if (input instanceof HTMLInputElement || input instanceof HTMLTextAreaElement) {
      input.setAttribute('aria-invalid', 'true');
      first ??= input;
    }
  }
  if (leftover.length > 0) showAlert(formAlert, leftover.join(' '));
  first?.focus();
}

// "redirect_uris.1" names the second line of its box: say so, since the message alone does not.
function lineErrors(error) {
  const out = {};
  for (const e of error.body.errors ?? []) {
    const [field = 'form', index] = String(e.field ?? '').split('.');
    const message = index === undefined ? e.message : `Line ${Number(index) + 1}: ${e.message}`;
    out[field] = out[field] ? `${out[field]} ${message}` : message;
  }
  return Object.keys(out).length > 0 ? out : { form: error.message };
}

function missing(body) {
  const errors = {};
  if (!body.name) errors.name = 'Enter a name for the app.';
  if (body.grant_types.length === 0) errors.grant_types = 'Choose at least one grant type.';
  if (body.grant_types.includes('authorization_code') && body.redirect_uris.length === 0) {
    errors.redirect_uris = 'Enter at least one redirect URI for the authorization code grant.';
  }
  if (
    body.grant_types.includes('client_credentials') &&
    !$('[name="confidential"]', form).checked
  ) {
    errors.grant_types = 'Client credentials needs a confidential client.';
  }
  return errors;
}

onSubmit(form, async (event) => {
  event.preventDefault();
  clearAlert(formAlert);
  const body = formBody();
  const errors = missing(body);
  if (Object.keys(errors).length > 0) {
    showErrors(errors);
    return;
  }
  clearFieldErrors(form); // a message from the last attempt must not stand beside a fixed field
  await busy($('button[type="submit"]', form), 'Registering…', async () => {
    try {
      const created = await api('POST', '/admin/clients', body);
      closeForm();
      revealSecret(created, created.client_secret);
      toast(`${created.name} is registered.`);
      await Promise.all([loadClients(true), changed()]);
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) showErrors(lineErrors(error));
      else showAlert(formAlert, problem(error));
    }
  });
});

async function rotateSecret(client, button) {
  const yes = await confirmDialog({
    title: `Rotate the secret of ${client.name}?`,
    message:
      'The current secret stops working at once. The app cannot obtain tokens again until it is given the new one.',
    confirm: 'Rotate secret',
    danger: true,
  });
  if (!yes) return;
  clearAlert(alert);
  await busy(button, 'Rotating…', async () => {
    try {
      const { client_secret } = await api(
        'POST',
        `/admin/clients/${encodeURIComponent(client.client_id)}/secret`,
      );
      revealSecret(client, client_secret);
      toast(`${client.name} has a new secret.`);
      await changed();
    } catch (error) {
      showAlert(alert, problem(error));
    }
  });
}

async function deleteClient(client, button) {
  const yes = await confirmDialog({
    title: `Delete ${client.name}?`,
    message:
      'The app can no longer sign anyone in, and everyone signed in through it is signed out at once. This cannot be undone.',
    confirm: 'Delete client',
    danger: true,
  });
  if (!yes) return;
  clearAlert(alert);
  await busy(button, 'Deleting…', async () => {
    try {
      await api('DELETE', `/admin/clients/${encodeURIComponent(client.client_id)}`);
      if ($('[data-secret-id]', secretBox).textContent === client.client_id) forgetSecret();
      $(`[data-client-id="${CSS.escape(client.client_id)}"]`, list)?.remove();
      showEmpty();
      toast(`${client.name} has been deleted.`);
      await changed();
    } catch (error) {
      showAlert(alert, problem(error));
    }
  });
}

newButton.addEventListener('click', openForm);
$('[data-client-cancel]', form).addEventListener('click', closeForm);
more.addEventListener('click', () => loadClients(false));
