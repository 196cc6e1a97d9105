// A real OpenID Connect provider on loopback for the sign-in tests (SPEC §9): panva's oidc-provider
// with its own development login and consent pages (any login name, any password). Its accounts are
// a map the test fills; `tamper` re-signs the ID token of the next token answers with the
// provider's own key after changing its claims (another audience, issuer or nonce).
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
  const state: Pick<TestProvider, 'tamper'> = { tamper: undefined };
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { id_token?: unknown } | undefined;
    if (ctx.path !== '/token' || !state.tamper || typeof body?.id_token !== 'string') return;
    const header = decodeProtectedHeader(body.id_token);
    body.id_token = await new SignJWT(state.tamper(decodeJwt(body.id_token)))
      .setProtectedHeader({ alg: 'RS256', kid: header.kid ?? 'test-key', typ: 'JWT' })
      .sign(privateKey);
  });
  // Its pages and errors are not what the tests read: keep its console quiet.
  provider.on('server_error', () => {});
  const handler = provider.callback();
  let server: Server | undefined;
  const listen = async (): Promise<void> => {
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
    stop,
    resume: listen,
    close: stop,
  };
}
