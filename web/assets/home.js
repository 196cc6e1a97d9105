// Home: who is signed in, or an invitation to sign in.
import { startPage } from './layout.js';
import { $, $$, el, formatDay, showAlert, showFlash, showView } from './ui.js';

function badge(text, kind) {
  return el('span', { class: `badge badge-${kind}` }, text);
}

function render(user) {
  for (const node of $$('[data-field="email"]')) node.textContent = user.email;
  $('dd [data-field="verified"]').replaceChildren(
    user.is_verified ? badge('Verified', 'success') : badge('Not verified', 'warning'),
  );
  $('[data-field="role"]').replaceChildren(
    user.is_superuser ? badge('Administrator', 'brand') : badge('Member', 'success'),
  );
  $('[data-field="scopes"]').replaceChildren(
    ...user.scopes.map((scope) => el('code', { class: 'badge' }, scope)),
  );
  $('[data-field="since"]').textContent = formatDay(user.created_at);
  showView('user');
}

const alert = $('[data-alert]');
showFlash(alert);
const user = await startPage({
  onEnded(reason) {
    showAlert(alert, `You were signed out. ${reason}`, 'info');
    showView('guest');
  },
});
if (user) render(user);
else showView('guest');
