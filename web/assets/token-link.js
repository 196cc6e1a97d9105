// The token of a mailed link (/reset?token=…, /verify?token=…). It is taken out of the address bar at
// once, so it stays out of the history and of anything that reads the URL later; this tab keeps it
// (sessionStorage) so that a reload still works.

/** The link's token, or '' when the link lacks one. */
export function takeToken(key) {
  const storageKey = `portcullis.${key}`;
  const url = new URL(location.href);
  const fresh = url.searchParams.get('token');
  if (fresh) {
    sessionStorage.setItem(storageKey, fresh);
    url.searchParams.delete('token');
    history.replaceState(null, '', `${url.pathname}${url.search}${url.hash}`);
    return fresh;
  }
  return sessionStorage.getItem(storageKey) ?? '';
}

/** Forgets the token once it is spent (or refused for good). */
export function dropToken(key) {
  sessionStorage.removeItem(`portcullis.${key}`);
}
