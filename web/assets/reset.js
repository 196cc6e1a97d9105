// Reset password: the token from the mailed link and a new password, explained live by the policy
// checklist, go to POST /password/reset; then the way to sign in.
import { startPage } from './layout.js';
import { livePolicy } from './policy.js';
import { ApiError, api } from './session.js';
import { dropToken, takeToken } from './token-link.js';
import {
  $,
  busy,
  clearAlert,
  clearFieldErrors,
  focusIfIdle,
  onSubmit,
  showAlert,
  showFieldErrors,
  wireReveal,
} from './ui.js';

const form = $('[data-form="reset"]');
const alert = $('[data-alert]');
const token = takeToken('reset');

function dead(message) {
  dropToken('reset');
  form.hidden = true;
  $('[data-dead]').hidden = false;
  showAlert(alert, message);
}

livePolicy(form.elements.new_password, $('[data-policy]', form), () => ({}));

onSubmit(form, async (event) => {
  event.preventDefault();
  clearAlert(alert);
  clearFieldErrors(form);
  const newPassword = form.elements.new_password.value;
  if (!newPassword) {
    showFieldErrors(form, { new_password: 'Choose a new password.' }, alert);
    return;
  }
  await busy($('button[type="submit"]', form), 'Saving…', async () => {
    try {
      await api('POST', '/password/reset', { token, new_password: newPassword });
      dropToken('reset');
      // Every session has ended on the server: this tab's expiry record is stale too.
      localStorage.removeItem('portcullis.session');
      form.hidden = true;
      const done = $('[data-done]');
      done.hidden = false;
      done.focus();
    } catch (error) {
      if (!(error instanceof ApiError)) {
        showAlert(alert, 'The server cannot be reached. Check your connection and try again.');
      } else if (error.code === 'invalid_or_expired_token') {
        dead('This link is expired or has already been used. Ask for a new one.');
      } else if (error.status === 422) {
        const errors = error.fieldErrors();
        showFieldErrors(form, { new_password: Object.values(errors).join(' ') }, alert);
      } else {
        showAlert(alert, error.message);
      }
    }
  });
});

wireReveal();
if (token) focusIfIdle(form.elements.new_password);
else dead('This link is incomplete. Open the link from the mail again, or ask for a new one.');
await startPage();
