// The passkey ceremonies in the browser, through @simplewebauthn/browser (served by this server from
// /assets/vendor/): options from the server, the browser's WebAuthn prompt, the answer back.
import {
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  startRegistration,
  WebAuthnAbortService,
} from '/assets/vendor/simplewebauthn/index.js';
import { api, signInWithPasskey } from './session.js';

export function passkeysSupported() {
  return window.isSecureContext && browserSupportsWebAuthn();
}

export function autofillSupported() {
  return passkeysSupported() ? browserSupportsWebAuthnAutofill() : Promise.resolve(false);
}

/** Creates a passkey for the signed-in user and registers it under `name`; the new passkey. */
export async function addPasskey(name) {
  const options = await api('POST', '/webauthn/register/options');
  const response = await startRegistration({ optionsJSON: options });
  return api('POST', '/webauthn/register', name ? { response, name } : { response });
}

/** Sign-in options from the server (a fresh challenge); throws when passkeys are off there. */
export async function passkeyLoginOptions() {
  const response = await fetch('/webauthn/login/options', {
    method: 'POST',
    headers: { accept: 'application/json' },
    credentials: 'same-origin',
    cache: 'no-store',
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw Object.assign(new Error(body.detail ?? 'Passkeys are not available.'), {
      code: body.code ?? 'error',
    });
  }
  return body;
}

/**
 * Whether this page can use the server's passkeys: its host must be the relying party's id or
 * under it (a page opened through another name, such as an IP address, never can).
 */
export function usableHere(options) {
  const host = location.hostname;
  return (
    typeof options?.rpId === 'string' &&
    (host === options.rpId || host.endsWith(`.${options.rpId}`))
  );
}

/**
 * Signs in with a discoverable passkey (no name typed); `autofill` waits for the user to pick one
 * from the username field's suggestions (conditional mediation) instead of opening a prompt.
 */
export async function passkeySignIn({ autofill = false, options = null } = {}) {
  const optionsJSON = options ?? (await passkeyLoginOptions());
  const assertion = await startAuthentication({ optionsJSON, useBrowserAutofill: autofill });
  return signInWithPasskey(assertion);
}

/** Stops a waiting autofill ceremony (before the button starts its own). */
export function cancelPasskeyCeremony() {
  WebAuthnAbortService.cancelCeremony();
}
