// The second factor after a sign-in through an identity provider: the pending sign-in is in an
// HttpOnly cookie; the code goes to POST /auth/second-factor, which sets the session cookies.
import { startPage } from './layout.js';
import { ApiError, api, refresh } from './session.js';
import {
  $,
  clearAlert,
  clearFieldErrors,
  focusIfIdle,
  onSubmit,
  safeNext,
  showAlert,
  showFieldErrors,
} from './ui.js';

const form = $('[data-form="second-factor"]');
const alert = $('[data-alert]');
const submit = $('button[type="submit"]', form);
// Local paths only: an /authorize?… request waiting for this sign-in comes back here as `next`.
const next = safeNext(new URLSearchParams(location.search).get('next'));
if (next !== '/') $('[data-login-link]').href = `/login?next=${encodeURIComponent(next)}`;

onSubmit(form, async (event) => {
  event.preventDefault();
  clearAlert(alert);
  clearFieldErrors(form);
  const otp = form.elements.otp.value.trim();
  if (!otp) {
    showFieldErrors(form, { otp: 'Enter the code from your authenticator app.' }, alert);
    return;
  }
  submit.disabled = true;
  try {
    await api('POST', '/auth/second-factor', { otp });
    // The answer set the cookies; one refresh records the session's lifetime for this tab.
    await refresh();
    location.assign(next);
    return;
  } catch (error) {
    if (!(error instanceof ApiError))
      showAlert(alert, 'The server cannot be reached. Check your connection and try again.');
    else if (error.code === 'invalid_otp' || error.status === 422)
      showFieldErrors(form, { otp: error.message }, alert);
    else showAlert(alert, error.message);
  }
  submit.disabled = false;
});

focusIfIdle(form.elements.otp);
await startPage();
