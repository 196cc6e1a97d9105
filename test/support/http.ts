// A small HTTP client for black-box tests: real requests over loopback, parsed answers.
export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
  /** Send the body form-encoded (application/x-www-form-urlencoded). */
  form?: boolean;
  /** Send this exact raw body (with the given content-type header). */
  raw?: string | Uint8Array;
  /** Give up (the promise rejects) after this many ms: for suites where a hang is the defect. */
  timeoutMs?: number;
}

export interface Client {
  request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    options?: RequestOptions,
  ): Promise<Answer<T>>;
  get<T = Record<string, unknown>>(path: string, options?: RequestOptions): Promise<Answer<T>>;
  post<T = Record<string, unknown>>(
    path: string,
    body?: unknown,
    options?: RequestOptions,
  ): Promise<Answer<T>>;
  patch<T = Record<string, unknown>>(
    path: string,
    body?: unknown,
    options?: RequestOptions,
  ): Promise<Answer<T>>;
  del<T = Record<string, unknown>>(
    path: string,
    body?: unknown,
    options?: RequestOptions,
  ): Promise<Answer<T>>;
}

export function client(baseUrl: string): Client {
  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    options: RequestOptions = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let payload: string | Uint8Array | undefined;
    if (options.raw !== undefined) {
      payload = options.raw;
    } else if (body !== undefined && options.form) {
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(body as Record<string, string>).toString();
    } else if (body !== undefined) {
      headers['content-type'] ??= 'application/json';
      payload = JSON.stringify(body);
    }
    const signal =
      options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
    const response = await fetch(new URL(path, baseUrl), {
      method,
      headers,
      body: payload,
      signal,
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: leave the text.
    }
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }
  return {
    request,
    get: (path, options) => request('GET', path, undefined, options),
    post: (path, body, options) => request('POST', path, body, options),
    patch: (path, body, options) => request('PATCH', path, body, options),
    del: (path, body, options) => request('DELETE', path, body, options),
  };
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

let counter = 0;

/** A unique, policy-compliant identity for a test user. */
export function newIdentity(prefix = 'user'): {
  username: string;
  email: string;
  password: string;
} {
  counter += 1;
  const tag = `${prefix}${counter}${Math.random().toString(36).slice(2, 7)}`;
  return { username: tag, email: `${tag}@example.com`, password: `correct horse ${tag} battery` };
}

export async function registerAndLogin(
  api: Client,
  prefix = 'user',
): Promise<{ id: string; username: string; email: string; password: string; tokens: TokenPair }> {
  const who = newIdentity(prefix);
  const created = await api.post<{ id: string }>('/register', who);
  if (created.status !== 201) throw new Error(`register failed: ${created.status} ${created.text}`);
  const tokens = await login(api, who.username, who.password);
  return { ...who, id: created.body.id, tokens };
}

export async function login(
  api: Client,
  username: string,
  password: string,
  scope?: string,
): Promise<TokenPair> {
  const form: Record<string, string> = { grant_type: 'password', username, password };
  if (scope !== undefined) form.scope = scope;
  const answer = await api.post<TokenPair>('/token', form, { form: true });
  if (answer.status !== 200) throw new Error(`login failed: ${answer.status} ${answer.text}`);
  return answer.body;
}
