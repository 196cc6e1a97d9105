// Create an account, with the password policy explained as the password is typed.
import { showProviderButtons } from './identity-providers.js';
import { startPage } from './layout.js';
import { livePolicy } from './policy.js';
import { ApiError, api } from './session.js';
import {
  $,
  busy,
  clearAlert,
  clearFieldErrors,
  focusIfIdle,
  onSubmit,
  safeNext,
  setFlash,
  showAlert,
  showFieldErrors,
  wireReveal,
} from './ui.js';

const form = $('[data-form="register"]');
// Where the sign-in after this should lead (a pending /authorize request, say); local paths only.
const next = safeNext(new URLSearchParams(location.search).get('next'));
const alert = $('[data-alert]');
const fields = form.elements;
const policy = livePolicy(fields.password, $('[data-policy]'), () => ({
  username: fields.username.value.trim(),
  email: fields.email.value.trim(),
}));
// The personal-information rule depends on the other two fields too.
fields.username.addEventListener('input', policy.update);
fields.email.addEventListener('input', policy.update);

function missing() {
  const errors = {};
  const email = fields.email.value.trim();
  if (!email) errors.email = 'Enter your email address.';
  else if (!email.includes('@')) errors.email = 'Enter an email address such as name@example.com.';
  if (!fields.username.value.trim()) errors.username = 'Choose a username.';
  if (!fields.password.value) errors.password = 'Choose a password.';
  return errors;
}

onSubmit(form, async (event) => {
  event.preventDefault();
  clearAlert(alert);
  clearFieldErrors(form);
  const errors = missing();
  if (Object.keys(errors).length > 0) {
    showFieldErrors(form, errors, alert);
    return;
  }
  const body = {
    email: fields.email.value.trim(),
    username: fields.username.value.trim(),
    password: fields.password.value,
  };
  await busy($('button[type="submit"]', form), 'Creating account…', async () => {
    try {
      const user = await api('POST', '/register', body);
      setFlash(`Your account ${user.username} is ready. Sign in to continue.`, 'success');
      sessionStorage.setItem('portcullis.username', user.username);
      location.assign(next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`);
    } catch (error) {
      if (!(error instanceof ApiError)) {
        showAlert(alert, 'The server cannot be reached. Check your connection and try again.');
      } else if (error.status === 409 || error.status === 422) {
        showFieldErrors(form, error.fieldErrors(), alert);
      } else {
        showAlert(alert, error.message);
      }
    }
  });
});

wireReveal();
if (next !== '/') $('[data-login-link]').href = `/login?next=${encodeURIComponent(next)}`;
showProviderButtons($('[data-providers]'), next);
focusIfIdle(fields.email);
const user = await startPage();
if (user) location.replace(next);
