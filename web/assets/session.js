// The pages' API client and session keeper. The tokens live in HttpOnly cookies the pages never
// see; the pages hold only the CSRF token (a readable cookie) and the access cookie's expiry time.
// Before the access cookie expires the session is refreshed silently; a 401 triggers one refresh and
// a retry. Tabs share the cookies and the expiry time (localStorage); when two tabs refresh at the
// same moment, the server's refresh grace window gives both the same successor.

const CSRF_COOKIE = '__Host-portcullis_csrf';
const EXPIRY_KEY = 'portcullis.session';
const CHECK_EVERY_MS = 60_000;
const MIN_DELAY_MS = 5_000;

/** An API answer that is not a success, with the server's problem details. */
export class ApiError extends Error {
  constructor(status, body, headers) {
    super(body?.detail ?? body?.error_description ?? `The server answered ${status}.`);
    this.status = status;
    this.code = body?.code ?? body?.error ?? 'error';
    this.body = body ?? {};
    const retry = Number(headers?.get('retry-after'));
    this.retryAfter = Number.isFinite(retry) && retry > 0 ? Math.ceil(retry) : 0;
  }

  /** Field messages of a 409/422 answer, by field name. */
  fieldErrors() {
    const out = {};
    for (const e of this.body.errors ?? []) {
      const field = String(e.field ?? '').split('.')[0] || 'form';
      out[field] = out[field] ? `${out[field]} ${e.message}` : e.message;
    }
    if (this.code === 'user_exists' && this.body.field) out[this.body.field] = this.message;
    // A wrong password is one field with one full sentence: "The password is incorrect."
    if (this.code === 'invalid_password') {
      for (const field of Object.keys(out)) out[field] = this.message;
    }
    return out;
  }
}

export function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === CSRF_COOKIE) return value.join('=');
  }
  return '';
}

/** Whether this browser holds a session (the CSRF cookie lives exactly as long as the session). */
export function hasSession() {
  return csrfToken() !== '';
}

async function send(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && hasSession()) headers['x-csrf-token'] = csrfToken();
  return fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
}

async function read(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { detail: text.slice(0, 200) };
  }
  if (!response.ok) throw new ApiError(response.status, body, response.headers);
  return body;
}

let refreshing = null;
let timer = 0;
let watching = false;
let over = false;
const endedListeners = new Set();

/** Calls the API with the session cookies; an expired access cookie is refreshed once, then retried. */
export async function api(method, path, body) {
  let response = await send(method, path, body);
  if (response.status === 401 && hasSession() && (await refresh())) {
    response = await send(method, path, body);
  }
  return read(response);
}

/** POST /login: on success the cookies are set and the refresh timer starts. */
export async function signIn(credentials) {
  const response = await send('POST', '/login', credentials);
  const body = await read(response);
  started(body);
  return body.user;
}

/** POST /webauthn/login with the browser's assertion: the same session as signIn. */
export async function signInWithPasskey(response) {
  const body = await read(await send('POST', '/webauthn/login', { response }));
  started(body);
  return body.user;
}

export async function signOut() {
  try {
    await api('POST', '/logout');
  } finally {
    forget();
  }
}

/** The signed-in user, or null. */
export async function currentUser() {
  if (!hasSession()) return null;
  try {
    const user = await api('GET', '/users/me');
    watch();
    return user;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

/** Refreshes the session once, however many callers ask at the same time; true when it worked. */
export function refresh() {
  refreshing ??= refreshNow().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function refreshNow() {
  let response;
  try {
    response = await send('POST', '/session/refresh');
  } catch {
    schedule(Date.now() + 15_000);
    return false;
  }
  if (response.ok) {
    started(await response.json());
    return true;
  }
  if (response.status === 401 || response.status === 403) {
    const reason = await read(response).catch((error) => error);
    ended(reason instanceof ApiError ? reason.message : 'Your session has ended.');
    return false;
  }
  // Slowed down or a server hiccup: the access cookie may still be good; try again shortly.
  schedule(Date.now() + 15_000);
  return false;
}

function started(body) {
  over = false;
  const now = Date.now();
  const record = { expiresAt: now + body.expires_in * 1000, lifetime: body.expires_in * 1000 };
  localStorage.setItem(EXPIRY_KEY, JSON.stringify(record));
  scheduleFrom(record);
}

function stored() {
  try {
    const record = JSON.parse(localStorage.getItem(EXPIRY_KEY) ?? 'null');
    return record && Number.isFinite(record.expiresAt) ? record : null;
  } catch {
    return null;
  }
}

// Refresh when a quarter of the lifetime is left, with a little jitter so that tabs rarely collide.
function scheduleFrom(record) {
  const margin = Math.max(record.lifetime * 0.25, 10_000);
  schedule(record.expiresAt - margin + Math.random() * 2_000);
}

function schedule(at) {
  clearTimeout(timer);
  timer = setTimeout(() => refresh(), Math.max(at - Date.now(), MIN_DELAY_MS));
}

function forget() {
  clearTimeout(timer);
  localStorage.removeItem(EXPIRY_KEY);
}

function ended(reason) {
  forget();
  if (over) return;
  over = true;
  for (const listener of endedListeners) listener(reason);
}

/** Called with a reason when the session ends under the page (expired, ended elsewhere, disabled). */
export function onSessionEnded(listener) {
  endedListeners.add(listener);
}

/** Keeps the session alive and notices when it is ended elsewhere (another device, an admin). */
export function watch() {
  if (watching) return;
  watching = true;
  const record = stored();
  if (record) scheduleFrom(record);
  else refresh();
  const check = () => {
    // A refresh in flight reports its own outcome: its answer clears the cookies before its reason
    // can be read, and reading the missing cookie here would give the wrong one ("another tab").
    if (over || refreshing) return;
    if (!hasSession()) {
      ended('You signed out in another tab.');
      return;
    }
    api('GET', '/users/me').catch(() => {
      // A failed refresh has already reported the end of the session; other errors are transient.
    });
  };
  setInterval(check, CHECK_EVERY_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') check();
  });
  // Another tab refreshed (new expiry: follow it) or signed out (no session left).
  window.addEventListener('storage', (event) => {
    if (event.key !== EXPIRY_KEY) return;
    const next = stored();
    if (next) scheduleFrom(next);
    else check();
  });
}
