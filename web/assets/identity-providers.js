// "Sign in with …" buttons for the identity providers the server is set up with (GET
// /auth/providers), on /login and /register. Each is a plain link to /auth/{name}/start carrying
// where the sign-in was going (`next`, a local path); a provider that cannot be reached right now
// shows as unavailable.
import { el } from './ui.js';

/** The configured providers, or [] when the list cannot be read (the password form still works). */
export async function providerList() {
  try {
    const response = await fetch('/auth/providers', {
      headers: { accept: 'application/json' },
      credentials: 'same-origin',
      cache: 'no-store',
    });
    return response.ok ? await response.json() : [];
  } catch {
    return [];
  }
}

/** Fills `container` (hidden while there is no provider) with one button per provider. */
export async function showProviderButtons(container, next) {
  const providers = await providerList();
  if (providers.length === 0) return;
  const query = next && next !== '/' ? `?${new URLSearchParams({ next }).toString()}` : '';
  const buttons = providers.map((p) =>
    p.available
      ? el(
          'a',
          {
            class: 'btn btn-secondary btn-block',
            href: `${p.start_url}${query}`,
            'data-provider': p.name,
          },
          p.label,
        )
      : el(
          'button',
          {
            type: 'button',
            class: 'btn btn-secondary btn-block',
            disabled: true,
            'data-provider': p.name,
          },
          `${p.label} (unavailable right now)`,
        ),
  );
  container.replaceChildren(el('p', { class: 'providers-or' }, 'or'), ...buttons);
  container.hidden = false;
}
