// Verify the email address: the token from the mailed link goes to POST /verify at once.
import { startPage } from './layout.js';
import { ApiError, api } from './session.js';
import { dropToken, takeToken } from './token-link.js';
import { $, showAlert } from './ui.js';

const alert = $('[data-alert]');
const status = $('[data-verify-status]');

function dead(message) {
  dropToken('verify');
  status.textContent = 'The link did not work.';
  $('[data-dead]').hidden = false;
  showAlert(alert, message);
}

async function verify(token) {
  if (!token) {
    dead('This link is incomplete. Open the link from the mail again.');
    return;
  }
  try {
    await api('POST', '/verify', { token });
    dropToken('verify');
    status.textContent = 'Done.';
    $('[data-done]').hidden = false;
  } catch (error) {
    if (!(error instanceof ApiError)) {
      status.textContent = 'The server cannot be reached.';
      showAlert(alert, 'Check your connection and reload the page.');
    } else if (error.code === 'invalid_or_expired_token') {
      dead('This link is expired or has already been used.');
    } else {
      dead(error.message);
    }
  }
}

await verify(takeToken('verify'));
await startPage();
