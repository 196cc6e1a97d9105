// A cookie jar for black-box tests of the cookie mode: what a browser keeps from Set-Cookie, sent back
// as a Cookie header, plus the attributes each cookie was set with.
import type { Answer, Client, RequestOptions } from './http.ts';

export const ACCESS = '__Host-portcullis_access';
export const REFRESH = '__Host-portcullis_refresh';
export const CSRF = '__Host-portcullis_csrf';

export interface SetCookie {
  name: string;
  value: string;
  /** Lower-cased attribute names; flag attributes map to ''. */
  attributes: Record<string, string>;
}

export function parseSetCookie(line: string): SetCookie {
  const [pair = '', ...rest] = line.split(';');
  const eq = pair.indexOf('=');
  const attributes: Record<string, string> = {};
  for (const part of rest) {
    const [key = '', ...value] = part.trim().split('=');
    attributes[key.toLowerCase()] = value.join('=');
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes };
}

export function setCookiesOf(answer: Answer<unknown>): SetCookie[] {
  return answer.headers.getSetCookie().map(parseSetCookie);
}

export class CookieJar {
  readonly values = new Map<string, string>();

  /** Applies an answer's Set-Cookie headers the way a browser does (Max-Age=0 deletes). */
  take(answer: Answer<unknown>): this {
    for (const c of setCookiesOf(answer)) {
      if (c.attributes['max-age'] === '0' || c.value === '') this.values.delete(c.name);
      else this.values.set(c.name, c.value);
    }
    return this;
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  header(): string {
    return [...this.values].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  clone(): CookieJar {
    const copy = new CookieJar();
    for (const [k, v] of this.values) copy.values.set(k, v);
    return copy;
  }
}

export interface BrowserSession {
  jar: CookieJar;
  csrf: string;
  user: { id: string; username: string };
}

/** Signs in through POST /login and returns the cookies a browser would hold. */
export async function cookieLogin(
  api: Client,
  username: string,
  password: string,
): Promise<BrowserSession> {
  const answer = await api.post<{ csrf_token: string; user: { id: string; username: string } }>(
    '/login',
    { username, password },
  );
  if (answer.status !== 200) throw new Error(`login failed: ${answer.status} ${answer.text}`);
  return {
    jar: new CookieJar().take(answer),
    csrf: answer.body.csrf_token,
    user: answer.body.user,
  };
}

/** Request options carrying the jar's cookies and, when given, an X-CSRF-Token header. */
export function withCookies(
  jar: CookieJar,
  csrf?: string,
  extra: Record<string, string> = {},
): RequestOptions {
  const headers: Record<string, string> = { cookie: jar.header(), ...extra };
  if (csrf !== undefined) headers['x-csrf-token'] = csrf;
  return { headers };
}
