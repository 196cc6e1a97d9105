// On /account: an unverified email address can ask for a new verification link (POST /verify/request).
import { ApiError, api } from './session.js';
import { $, busy, clearAlert, showAlert } from './ui.js';

const box = $('[data-unverified]');
const alert = $('[data-verify-alert]');

$('[data-verify-request]').addEventListener('click', async (event) => {
  clearAlert(alert);
  await busy(event.currentTarget, 'Sending…', async () => {
    try {
      const answer = await api('POST', '/verify/request');
      showAlert(alert, `${answer.detail} Open it to finish.`, 'success');
    } catch (error) {
      showAlert(
        alert,
        error instanceof ApiError ? error.message : 'The server cannot be reached. Try again.',
      );
    }
  });
});

/** Shows the offer when `user`'s address is not verified. */
export function showVerifyOffer(user) {
  box.hidden = user.is_verified;
}
