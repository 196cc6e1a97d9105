// Sign in: username or email and password; a second factor when the account has one; the wait shown
// when the server slows sign-ins down.
import { showProviderButtons } from './identity-providers.js';
import { startPage } from './layout.js';
import {
  autofillSupported,
  passkeyLoginOptions,
  passkeySignIn,
  passkeysSupported,
  usableHere,
} from './passkey.js';
import { ApiError, signIn } from './session.js';
import {
  $,
  clearAlert,
  clearFieldErrors,
  focusIfIdle,
  onSubmit,
  safeNext,
  showAlert,
  showFieldErrors,
  showFlash,
  wireReveal,
} from './ui.js';

const form = $('[data-form="login"]');
const alert = $('[data-alert]');
const submit = $('button[type="submit"]', form);
const otpField = $('[data-otp]');
const params = new URLSearchParams(location.search);
// Local paths only: an /authorize?… request waiting for this sign-in comes back here as `next`.
const next = safeNext(params.get('next'));
// prompt=login or max_age: the app needs the password typed now, so a session is not enough.
const reauth = params.get('reauth') === '1';
let waitUntil = 0;

function waiting() {
  const left = Math.ceil((waitUntil - Date.now()) / 1000);
  if (left <= 0) {
    waitUntil = 0;
    submit.disabled = false;
    clearAlert(alert);
    return;
  }
  submit.disabled = true;
  const unit = left === 1 ? 'second' : 'seconds';
  showAlert(
    alert,
    `Too many sign-in attempts. For your security, wait ${left} ${unit} before trying again.`,
  );
  setTimeout(waiting, 1000);
}

function missing() {
  const errors = {};
  if (!form.elements.username.value.trim()) errors.username = 'Enter your username or email.';
  if (!form.elements.password.value) errors.password = 'Enter your password.';
  if (!otpField.hidden && !form.elements.otp.value.trim())
    errors.otp = 'Enter the code from your authenticator app.';
  return errors;
}

function failed(error) {
  if (!(error instanceof ApiError)) {
    showAlert(alert, 'The server cannot be reached. Check your connection and try again.');
    return;
  }
  if (error.code === 'mfa_required') {
    otpField.hidden = false;
    form.elements.otp.required = true;
    showAlert(
      alert,
      'This account has two-step verification. Enter your authentication code.',
      'info',
    );
    form.elements.otp.focus();
    return;
  }
  if (error.status === 429) {
    waitUntil = Date.now() + Math.max(error.retryAfter, 1) * 1000;
    waiting();
    return;
  }
  if (error.status === 422) {
    showFieldErrors(form, error.fieldErrors(), alert);
    return;
  }
  // An authenticator that can no longer be checked: the message asks for a recovery code instead.
  if (error.code === 'invalid_otp' || error.code === 'second_factor_unavailable') {
    showFieldErrors(form, { otp: error.message }, alert);
    form.elements.otp.select();
    return;
  }
  showAlert(alert, error.message);
  form.elements.password.select();
  form.elements.password.focus();
}

onSubmit(form, async (event) => {
  event.preventDefault();
  if (waitUntil > Date.now()) return;
  clearAlert(alert);
  clearFieldErrors(form);
  const errors = missing();
  if (Object.keys(errors).length > 0) {
    showFieldErrors(form, errors, alert);
    return;
  }
  const credentials = {
    username: form.elements.username.value.trim(),
    password: form.elements.password.value,
  };
  if (!otpField.hidden) credentials.otp = form.elements.otp.value.trim();
  submit.disabled = true;
  submit.textContent = 'Signing in…';
  try {
    await signIn(credentials);
    location.assign(next);
    return;
  } catch (error) {
    failed(error);
  }
  submit.textContent = 'Sign in';
  submit.disabled = waitUntil > Date.now();
});

// Passkeys: the button, and the browser's autofill offering them in the username field.

const passkeyButton = $('[data-passkey]');

// The user closed the prompt, or another ceremony replaced this one: nothing to report.
const dismissed = (error) => error?.name === 'AbortError' || error?.name === 'NotAllowedError';

function passkeyFailed(error) {
  if (dismissed(error)) return;
  if (error instanceof ApiError) {
    if (error.status === 429) {
      waitUntil = Date.now() + Math.max(error.retryAfter, 1) * 1000;
      waiting();
      return;
    }
    showAlert(alert, error.message);
    return;
  }
  showAlert(
    alert,
    error?.message || 'The passkey could not be used. Try again, or use your password.',
  );
}

async function withPasskey(autofill, options = null) {
  try {
    await passkeySignIn({ autofill, options });
    location.assign(next);
    return true;
  } catch (error) {
    passkeyFailed(error);
    return false;
  }
}

passkeyButton.addEventListener('click', async () => {
  clearAlert(alert);
  passkeyButton.disabled = true;
  passkeyButton.textContent = 'Waiting for your passkey…';
  // Starting a new ceremony aborts the autofill one; that one is offered again afterwards.
  const done = await withPasskey(false);
  passkeyButton.textContent = 'Sign in with a passkey';
  passkeyButton.disabled = false;
  if (!done) offerAutofill();
});

async function offerAutofill(options = null) {
  if (!(await autofillSupported())) return;
  await withPasskey(true, options);
}

/** Offers passkeys only where they can work: a capable browser, passkeys on, this host the RP's. */
async function startPasskeys() {
  if (!passkeysSupported()) return;
  let options;
  try {
    options = await passkeyLoginOptions();
  } catch {
    return; // Off on this server (PUBLIC_URL has an IP address), or not reachable: no offer.
  }
  if (!usableHere(options)) return;
  $('[data-passkey-area]').hidden = false;
  await offerAutofill(options);
}

wireReveal();
showFlash(alert);
if (reauth && alert.hidden) showAlert(alert, 'Sign in again to continue.', 'info');
// Creating an account first still ends where this sign-in was going.
if (next !== '/') {
  $('[data-register-link]').href = `/register?next=${encodeURIComponent(next)}`;
}
$('[data-insecure]').hidden = window.isSecureContext;
showProviderButtons($('[data-providers]'), next);
// An app's login_hint (OpenID Connect) prefills the name; only a plausible one, and only as text.
const hint = new URLSearchParams(location.search).get('login_hint');
const remembered =
  sessionStorage.getItem('portcullis.username') ??
  (hint && hint.length <= 320 && ![...hint].some((c) => c.charCodeAt(0) < 0x20) ? hint : null);
sessionStorage.removeItem('portcullis.username');
// What the user typed before this script ran is theirs: neither replaced nor left by the caret.
if (remembered) {
  if (!form.elements.username.value) form.elements.username.value = remembered;
  focusIfIdle(form.elements.password);
} else {
  focusIfIdle(form.elements.username);
}
const user = await startPage();
if (user && !reauth) location.replace(next);
else if (user && !remembered) {
  if (!form.elements.username.value) form.elements.username.value = user.username;
  focusIfIdle(form.elements.password);
}
// Not awaited: the autofill ceremony waits, possibly for good, until the user picks a passkey.
if (!user || reauth) startPasskeys();
