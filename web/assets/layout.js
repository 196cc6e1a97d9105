// The shared page frame: the top bar shows who is signed in, the Admin link for superusers and the
// sign-out button; pages that need a session send the visitor to /login when it ends.
import { ApiError, currentUser, onSessionEnded, signOut } from './session.js';
import { $, $$, initials, setFlash } from './ui.js';

function showHeader(user) {
  for (const node of $$('[data-auth]')) {
    const want = node.dataset.auth;
    node.hidden =
      want === 'guest' ? user !== null : want === 'admin' ? !user?.is_superuser : user === null;
  }
  if (user) {
    for (const node of $$('[data-username]')) node.textContent = user.username;
    for (const node of $$('[data-initials]')) node.textContent = initials(user.username);
  }
}

function toLogin(message) {
  setFlash(message, 'info');
  const next = `${location.pathname}${location.search}`;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
}

/**
 * Starts a page: finds the user, sets up the top bar. `needs` is 'user' or 'admin' for pages that
 * require a session (the visitor is sent to /login without one); `onEnded` runs when the session
 * ends under a page that does not require one.
 */
export async function startPage({ needs = null, onEnded = null } = {}) {
  let loaded = false;
  let endedReason = null;
  const react = (reason) => {
    showHeader(null);
    if (needs) toLogin(`You were signed out. ${reason}`);
    else onEnded?.(reason);
  };
  // Registered first: the session may end during this very load (a refresh that fails).
  onSessionEnded((reason) => {
    endedReason = reason;
    if (loaded) react(reason);
  });
  let user;
  try {
    user = await currentUser();
  } catch (error) {
    const main = $('main');
    main.replaceChildren();
    main.append(
      Object.assign(document.createElement('div'), {
        className: 'alert alert-error',
        textContent:
          error instanceof ApiError ? error.message : 'The server cannot be reached. Try again.',
      }),
    );
    throw error;
  }
  loaded = true;
  showHeader(user);
  $('[data-signout]')?.addEventListener('click', async () => {
    try {
      await signOut();
    } catch {
      // Signed out either way: the session or its cookies are gone.
    }
    setFlash('You have signed out.', 'success');
    location.assign('/login');
  });
  if (!user && endedReason !== null) {
    react(endedReason);
    return null;
  }
  if (needs && !user) {
    toLogin('Sign in to continue.');
    return null;
  }
  return user;
}
