// The token of a mailed link (/reset#token=…, /verify#token=…). It rides in the fragment, which the
// browser never sends, so no server or proxy log sees it. Links mailed before that carried it as
// ?token=, which is still read. Either way it is taken out of the address bar at once, so it stays
// out of the history and of anything that reads the URL later; this tab keeps it (sessionStorage)
// so that a reload still works.

/** The link's token, or '' when the link lacks one. */
export function takeToken(key) {
  const storageKey = `portcullis.${key}`;
  const url = new URL(location.href);
  const fragment = new URLSearchParams(url.hash.slice(1));
  const inFragment = fragment.get('token');
  const fresh = inFragment || url.searchParams.get('token');
  if (fresh) {
    sessionStorage.setItem(storageKey, fresh);
    url.searchParams.delete('token');
    let hash = url.hash;
    if (inFragment) {
      fragment.delete('token');
      const rest = fragment.toString();
      hash = rest ? `#${rest}` : '';
    }
    history.replaceState(null, '', `${url.pathname}${url.search}${hash}`);
    return fresh;
  }
  return sessionStorage.getItem(storageKey) ?? '';
}

/** Forgets the token once it is spent (or refused for good). */
export function dropToken(key) {
  sessionStorage.removeItem(`portcullis.${key}`);
}
