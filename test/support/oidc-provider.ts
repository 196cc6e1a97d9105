// A real OpenID Connect provider on loopback for the sign-in tests (SPEC §9): panva's oidc-provider
// with its own development login and consent pages (any login name, any password). Its accounts are
// a map the test fills; `tamper` re-signs the ID token of the next token answers with the
// provider's own key after changing its claims (another audience, issuer or nonce).
import type { KeyObject, webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import {
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
} from 'jose';
import Provider from 'oidc-provider';

export interface TestAccount {
  email?: string;
  email_verified?: boolean;
  preferred_username?: string;
}

export interface TestProvider {
  issuer: string;
  accounts: Map<string, TestAccount>;
  /** Set to change the claims of the ID tokens the token endpoint returns (re-signed). */
  tamper: ((claims: JWTPayload) => JWTPayload) | undefined;
  /** Set to re-sign the ID tokens with this key instead of the provider's (same kid). */
  signingKey: KeyObject | webcrypto.CryptoKey | undefined;
  /** Stops answering (connections refused) until resume(). */
  stop(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

/** A free loopback port (for a server whose URL must be known before it starts). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startOidcProvider(options: {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}): Promise<TestProvider> {
  const port = await freePort();
  // localhost, while Portcullis runs on 127.0.0.1: another site, as a real provider is.
  const issuer = `http://localhost:${port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const accounts = new Map<string, TestAccount>();
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: ['test-cookie-key-not-secret'] },
    claims: { email: ['email', 'email_verified'], profile: ['preferred_username'] },
    features: { devInteractions: { enabled: true } },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
    },
    async findAccount(_ctx: unknown, sub: string) {
      return {
        accountId: sub,
        async claims() {
          return { sub, ...(accounts.get(sub) ?? {}) };
        },
      };
    },
  });
  const state: Pick<TestProvider, 'tamper' | 'signingKey'> = {
    tamper: undefined,
    signingKey: undefined,
  };
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { id_token?: unknown } | undefined;
    if (ctx.path !== '/token' || typeof body?.id_token !== 'string') return;
    if (!state.tamper && !state.signingKey) return;
    const header = decodeProtectedHeader(body.id_token);
    const claims = decodeJwt(body.id_token);
    body.id_token = await new SignJWT(state.tamper ? state.tamper(claims) : claims)
      .setProtectedHeader({ alg: 'RS256', kid: header.kid ?? 'test-key', typ: 'JWT' })
      .sign(state.signingKey ?? privateKey);
  });
  // Its pages and errors are not what the tests read: keep its console quiet.
  provider.on('server_error', () => {});
  const handler = provider.callback();
  let server: Server | undefined;
  const listen = async (): Promise<void> => {
    if (server) return;
    server = createServer(handler);
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
  };
  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  };
  await listen();
  return {
    issuer,
    accounts,
    get tamper() {
      return state.tamper;
    },
    set tamper(fn) {
      state.tamper = fn;
    },
    get signingKey() {
      return state.signingKey;
    },
    set signingKey(key) {
      state.signingKey = key;
    },
    stop,
    resume: listen,
    close: stop,
  };
}

/** What a browser holds at the moment the provider sends it back: the callback URL and our cookies. */
export interface ProviderAnswer {
  /** The provider's redirect to our callback (code and state in its query). */
  callbackUrl: string;
  /** Our cookies the start set (the flow cookie), as a Cookie header. */
  cookie: string;
  flowCookie: string;
}

const decodeEntities = (text: string): string =>
  text
    .replace(/&amp;/g, '&')
    .replace(/&#x2F;/gi, '/')
    .replace(/&quot;/g, '"');

/**
 * Walks a sign-in the way a browser would, without one: our /auth/{name}/start, then the
 * provider's development login (any password) and consent forms, up to the redirect to our
 * callback, which it does not follow. Cookies are kept per host (paths ignored).
 */
export async function walkToCallback(
  startUrl: string,
  sub: string,
  callbackPrefix: string,
  /** Cookies our server already set in this "browser" (a session, to link), as a Cookie header. */
  initialCookie = '',
): Promise<ProviderAnswer> {
  const jars = new Map<string, Map<string, string>>();
  const start = new Map<string, string>();
  for (const part of initialCookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) start.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  jars.set(new URL(startUrl).host, start);
  const jarOf = (url: URL): Map<string, string> => {
    const jar = jars.get(url.host) ?? new Map<string, string>();
    jars.set(url.host, jar);
    return jar;
  };
  const send = async (url: URL, init: RequestInit = {}): Promise<Response> => {
    const jar = jarOf(url);
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0\b|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  };
  let url = new URL(startUrl);
  let response = await send(url);
  const ours = new Map(jarOf(url));
  for (let step = 0; step < 20; step++) {
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location') ?? '';
      url = new URL(location, url);
      if (url.href.startsWith(callbackPrefix)) {
        const flowCookie = ours.get('__Host-portcullis_idp_flow') ?? '';
        return {
          callbackUrl: url.href,
          cookie: [...ours].map(([k, v]) => `${k}=${v}`).join('; '),
          flowCookie,
        };
      }
      response = await send(url);
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (response.status !== 200 || action === undefined)
      throw new Error(`unexpected answer ${response.status} at ${url.href}: ${html.slice(0, 300)}`);
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1] ?? '';
    const form = new URLSearchParams({ prompt });
    if (prompt === 'login') {
      form.set('login', sub);
      form.set('password', 'anything');
    }
    url = new URL(decodeEntities(action), url);
    response = await send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
  }
  throw new Error('the provider never sent the browser back');
}
