// "Sign-in providers" on /account: the identities at other providers linked to the account (GET
// /users/me/identities), Unlink (DELETE /users/me/identities/{name}, refused by the server when it
// is the account's only way in), and Link for each configured provider not linked yet (a link to
// /auth/{name}/start?link=1, which comes back here).
import { providerList } from './identity-providers.js';
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

const section = $('[data-identities]');
const list = $('[data-identities-list]', section);
const alert = $('[data-identities-alert]', section);

function linkedRow(identity) {
  const meta = [
    identity.email,
    `Linked ${formatDate(identity.linked_at)}`,
    identity.last_used_at ? `last used ${timeAgo(identity.last_used_at)}` : null,
  ].filter(Boolean);
  const unlink = el(
    'button',
    {
      type: 'button',
      class: 'btn btn-danger-outline btn-sm',
      'aria-label': `Unlink ${identity.display_name}`,
    },
    'Unlink',
  );
  unlink.addEventListener('click', () => unlinkIdentity(identity, unlink));
  return el(
    'li',
    { class: 'row', 'data-identity': identity.provider },
    el(
      'div',
      { class: 'row-main' },
      el('span', { class: 'row-title' }, identity.display_name),
      el('span', { class: 'row-meta' }, meta.join(' · ')),
    ),
    el('div', { class: 'row-actions' }, unlink),
  );
}

function linkRow(provider) {
  const href = `${provider.start_url}?link=1&next=%2Faccount`;
  return el(
    'li',
    { class: 'row', 'data-link-provider': provider.name },
    el(
      'div',
      { class: 'row-main' },
      el('span', { class: 'row-title' }, provider.display_name),
      el(
        'span',
        { class: 'row-meta' },
        provider.available ? 'Not linked' : 'Not linked · unavailable right now',
      ),
    ),
    el(
      'div',
      { class: 'row-actions' },
      provider.available
        ? el(
            'a',
            {
              class: 'btn btn-secondary btn-sm',
              href,
              'aria-label': `Link ${provider.display_name}`,
            },
            'Link',
          )
        : null,
    ),
  );
}

async function load() {
  clearAlert(alert);
  list.setAttribute('aria-busy', 'true');
  try {
    const [linked, providers] = await Promise.all([
      api('GET', '/users/me/identities'),
      providerList(),
    ]);
    // Nothing to show or offer: the section stays hidden on servers without providers.
    section.hidden = linked.length === 0 && providers.length === 0;
    // An account made through a provider has no password: the reset link is how it gets one.
    $('[data-identities-password]', section).hidden = linked.length === 0;
    const names = new Set(linked.map((i) => i.provider));
    list.replaceChildren(
      ...linked.map(linkedRow),
      ...providers.filter((p) => !names.has(p.name)).map(linkRow),
    );
  } catch (error) {
    list.replaceChildren();
    showAlert(
      alert,
      error instanceof ApiError
        ? `Linked providers cannot be shown right now. ${error.message}`
        : 'Linked providers cannot be shown right now.',
      'info',
    );
  } finally {
    list.setAttribute('aria-busy', 'false');
  }
}

async function unlinkIdentity(identity, button) {
  const yes = await confirmDialog({
    title: `Unlink ${identity.display_name}?`,
    message: `You will no longer be able to sign in with ${identity.display_name} until you link it again.`,
    confirm: 'Unlink',
    danger: true,
  });
  if (!yes) return;
  clearAlert(alert);
  await busy(button, 'Unlinking…', async () => {
    try {
      await api('DELETE', `/users/me/identities/${encodeURIComponent(identity.provider)}`);
      toast(`${identity.display_name} is no longer linked to your account.`);
    } catch (error) {
      showAlert(alert, error instanceof ApiError ? error.message : 'The server cannot be reached.');
    }
  });
  await load();
}

export function startIdentities() {
  return load();
}
