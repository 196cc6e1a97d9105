// Forgot password: the email address goes to POST /password/forgot. Every well-formed address gets
// the same answer, so the page never tells whether an account uses it.
import { startPage } from './layout.js';
import { ApiError, api } from './session.js';
import {
  $,
  busy,
  clearAlert,
  clearFieldErrors,
  focusIfIdle,
  onSubmit,
  showAlert,
  showFieldErrors,
} from './ui.js';

const form = $('[data-form="forgot"]');
const alert = $('[data-alert]');
const sent = $('[data-sent]');

onSubmit(form, async (event) => {
  event.preventDefault();
  clearAlert(alert);
  clearFieldErrors(form);
  const email = form.elements.email.value.trim();
  if (!email.includes('@')) {
    showFieldErrors(form, { email: 'Enter an email address such as name@example.com.' }, alert);
    return;
  }
  await busy($('button[type="submit"]', form), 'Sending…', async () => {
    try {
      const answer = await api('POST', '/password/forgot', { email });
      $('[data-sent-text]').textContent = answer.detail;
      form.hidden = true;
      sent.hidden = false;
      sent.focus();
    } catch (error) {
      if (!(error instanceof ApiError)) {
        showAlert(alert, 'The server cannot be reached. Check your connection and try again.');
      } else if (error.status === 422 || error.status === 400) {
        showFieldErrors(form, { email: 'Enter a valid email address.' }, alert);
      } else {
        showAlert(alert, error.message);
      }
    }
  });
});

focusIfIdle(form.elements.email);
await startPage();
