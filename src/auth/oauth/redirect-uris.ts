// Redirect URIs are compared as exact strings with the registered ones (RFC 9700 §4.1.3): no
// prefix, wildcard, case, trailing-slash or normalisation tolerance. The one exception is RFC 8252
// §7.3: a registered loopback IP URI matches the same URI on any port, because a native app listens
// on whatever port the system gives it.

// Scheme, loopback IP literal, optional port, then a path, a query or the end: `http://127.0.0.1:1@evil`
// does not match (the '@' is neither).
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::\d{1,5})?(?=[/?]|$)/;

function withoutPort(uri: string): string | undefined {
  const m = LOOPBACK.exec(uri);
  return m ? `http://${m[1]}${uri.slice(m[0].length)}` : undefined;
}

/** `given` when it matches a registered URI (the answer goes there, port and all), else undefined. */
export function matchRedirectUri(registered: readonly string[], given: string): string | undefined {
  if (registered.includes(given)) return given;
  const bare = withoutPort(given);
  if (bare === undefined) return undefined;
  return registered.some((uri) => withoutPort(uri) === bare) ? given : undefined;
}
