// Two-step verification on /account: start (QR code and key), confirm with a code, show the ten
// recovery codes once; turn it off with the password or a code.
import { ApiError, api } from './session.js';
import {
  $,
  $$,
  busy,
  clearAlert,
  clearFieldErrors,
  el,
  onSubmit,
  showAlert,
  showFieldErrors,
} from './ui.js';

const section = $('[data-twofa]');
const alert = $('[data-twofa-alert]', section);
const confirmForm = $('[data-form="totp-confirm"]', section);
const disableForm = $('[data-form="totp-disable"]', section);

function show(view) {
  for (const node of $$('[data-twofa-view]', section))
    node.hidden = node.dataset.twofaView !== view;
}

function badge(on) {
  $('[data-twofa-badge]', section).replaceChildren(
    on ? el('span', { class: 'badge badge-success' }, 'On') : el('span', { class: 'badge' }, 'Off'),
  );
}

function failure(error, form) {
  if (!(error instanceof ApiError)) showAlert(alert, 'The server cannot be reached. Try again.');
  else if (form && error.code === 'invalid_password')
    showFieldErrors(form, { password: error.message }, alert);
  else if (form && (error.code === 'invalid_otp' || error.code === 'invalid_grant'))
    showFieldErrors(form, { code: error.message }, alert);
  else showAlert(alert, error.message);
}

async function load() {
  clearAlert(alert);
  try {
    const status = await api('GET', '/users/me/totp');
    badge(status.enabled);
    if (status.enabled) {
      const left = status.recovery_codes_left;
      $('[data-twofa-left]', section).textContent =
        `Two-step verification is on. ${left} recovery ${left === 1 ? 'code' : 'codes'} left.`;
      disableForm.hidden = true;
      $('[data-twofa-off]', section).hidden = false;
      show('on');
    } else {
      show('off');
    }
  } catch (error) {
    failure(error, null);
  }
}

$('[data-twofa-start]', section).addEventListener('click', async (event) => {
  clearAlert(alert);
  await busy(event.currentTarget, 'Starting…', async () => {
    try {
      const enrolment = await api('POST', '/users/me/totp');
      // The SVG is shown as an image: an <img> never runs script, whatever the document holds.
      $('[data-qr]', section).src =
        `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qr_svg)}`;
      $('[data-secret]', section).textContent = enrolment.secret;
      confirmForm.reset();
      clearFieldErrors(confirmForm);
      show('enrol');
      confirmForm.elements.code.focus();
    } catch (error) {
      failure(error, null);
    }
  });
});

$('[data-twofa-cancel]', section).addEventListener('click', async () => {
  // The pending secret stays unconfirmed (useless for signing in) until a new start replaces it.
  $('[data-secret]', section).textContent = '';
  $('[data-qr]', section).removeAttribute('src');
  await load();
});

onSubmit(confirmForm, async (event) => {
  event.preventDefault();
  clearAlert(alert);
  clearFieldErrors(confirmForm);
  const code = confirmForm.elements.code.value.replace(/\s+/g, '');
  if (!code) {
    showFieldErrors(confirmForm, { code: 'Enter the code your app shows.' }, alert);
    return;
  }
  await busy($('button[type="submit"]', confirmForm), 'Checking…', async () => {
    try {
      const { recovery_codes: codes } = await api('POST', '/users/me/totp/confirm', { code });
      $('[data-secret]', section).textContent = '';
      $('[data-qr]', section).removeAttribute('src');
      $('[data-recovery-codes]', section).replaceChildren(
        ...codes.map((c) => el('li', {}, el('code', {}, c))),
      );
      badge(true);
      show('codes');
      $('[data-twofa-view="codes"]', section).focus();
    } catch (error) {
      failure(error, confirmForm);
      confirmForm.elements.code.select();
    }
  });
});

$('[data-twofa-saved]', section).addEventListener('click', async () => {
  // Shown once: the codes leave the page as soon as the user says they are saved.
  $('[data-recovery-codes]', section).replaceChildren();
  await load();
});

$('[data-twofa-off]', section).addEventListener('click', (event) => {
  event.currentTarget.hidden = true;
  disableForm.reset();
  clearFieldErrors(disableForm);
  disableForm.hidden = false;
  disableForm.elements.password.focus();
});

$('[data-twofa-keep]', section).addEventListener('click', () => {
  disableForm.hidden = true;
  $('[data-twofa-off]', section).hidden = false;
  $('[data-twofa-off]', section).focus();
});

onSubmit(disableForm, async (event) => {
  event.preventDefault();
  clearAlert(alert);
  clearFieldErrors(disableForm);
  const password = disableForm.elements.password.value;
  const code = disableForm.elements.code.value.trim();
  if (!password && !code) {
    showFieldErrors(disableForm, { password: 'Enter your password, or a code below.' }, alert);
    return;
  }
  // The password wins when both are filled: one proof is enough.
  const proof = password ? { password } : { code };
  await busy($('button[type="submit"]', disableForm), 'Turning off…', async () => {
    try {
      await api('DELETE', '/users/me/totp', proof);
      await load();
      showAlert(
        alert,
        'Two-step verification is off. Every other device has been signed out.',
        'success',
      );
    } catch (error) {
      failure(error, disableForm);
    }
  });
});

/** Shows the section in its current state. */
export function startTwoFactor() {
  return load();
}
