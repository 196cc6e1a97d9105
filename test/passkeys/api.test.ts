// Black-box: passkeys (SPEC §10) over HTTP on each database, with the software authenticator of
// test/support/webauthn.ts (itself checked against @simplewebauthn/server in soft-authenticator.test.ts).
// The test servers' PUBLIC_URL is http://localhost:8000: RP id "localhost", that origin.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CookieJar, cookieLogin, withCookies } from '../support/cookies.ts';
import { superuser } from '../support/fixtures.ts';
import { type Answer, type Client, client, newIdentity } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { base32Decode, totp } from '../support/totp.ts';
import {
  type AuthenticationJSON,
  FLAG,
  SoftAuthenticator,
  strangerKey,
  type Tamper,
} from '../support/webauthn.ts';

const ORIGIN = 'http://localhost:8000';
const RP_ID = 'localhost';
const ACCESS = '__Host-portcullis_access';
const BINDING = '__Host-portcullis_webauthn';

interface Options {
  challenge: string;
  user: { id: string };
  rp: { id: string };
  excludeCredentials?: Array<{ id: string }>;
  authenticatorSelection?: { userVerification?: string; residentKey?: string };
  attestation?: string;
  userVerification?: string;
  allowCredentials?: unknown[];
}

interface Browser {
  jar: CookieJar;
  csrf: string;
  user: { id: string; username: string };
  password: string;
}

for (const db of testDatabases()) {
  describe(`passkeys on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    before(async () => {
      server = await startServer({ db });
      api = client(server.url);
    });
    after(() => server.close());

    async function signedIn(prefix = 'pk'): Promise<Browser> {
      const who = newIdentity(prefix);
      assert.equal((await api.post('/register', who)).status, 201);
      const session = await cookieLogin(api, who.username, who.password);
      return { ...session, password: who.password };
    }

    async function registerOptions(b: Browser): Promise<Options> {
      const answer = await api.post<Options>(
        '/webauthn/register/options',
        undefined,
        withCookies(b.jar, b.csrf),
      );
      assert.equal(answer.status, 200, answer.text);
      b.jar.take(answer);
      return answer.body;
    }

    function finishRegister(b: Browser, response: unknown, name?: string): Promise<Answer> {
      return api.post('/webauthn/register', { response, name }, withCookies(b.jar, b.csrf));
    }

    async function addPasskey(b: Browser, name = 'Laptop'): Promise<SoftAuthenticator> {
      const auth = new SoftAuthenticator(ORIGIN, RP_ID);
      const answer = await finishRegister(b, auth.register(await registerOptions(b)), name);
      assert.equal(answer.status, 201, answer.text);
      return auth;
    }

    /** An anonymous browser that asked for sign-in options. */
    async function loginOptions(
      jar = new CookieJar(),
    ): Promise<{ jar: CookieJar; options: Options }> {
      const answer = await api.post<Options>(
        '/webauthn/login/options',
        undefined,
        withCookies(jar),
      );
      assert.equal(answer.status, 200, answer.text);
      jar.take(answer);
      return { jar, options: answer.body };
    }

    function finishLogin(jar: CookieJar, response: unknown): Promise<Answer> {
      return api.post('/webauthn/login', { response }, withCookies(jar));
    }

    async function signInWith(auth: SoftAuthenticator, tamper: Tamper = {}): Promise<Answer> {
      const { jar, options } = await loginOptions();
      return finishLogin(jar, auth.login(options, tamper));
    }

    /** A 4xx with a problem body, and no session cookies set. */
    function assertRefused(answer: Answer, status = 400): void {
      assert.equal(answer.status, status, answer.text);
      assert.ok(
        !answer.headers
          .getSetCookie()
          .some((c) => c.startsWith(`${ACCESS}=`) && !c.startsWith(`${ACCESS}=;`)),
        'no session cookie',
      );
    }

    async function auditTypes(
      subject: string,
    ): Promise<Array<{ type: string; details: Record<string, unknown> }>> {
      const admin = await superuser(server, api);
      const answer = await api.get<{
        items: Array<{ type: string; subject_id: string; details: Record<string, unknown> }>;
      }>('/admin/audit?limit=200', { token: admin.tokens.access_token });
      assert.equal(answer.status, 200, answer.text);
      return answer.body.items.filter((e) => e.subject_id === subject);
    }

    it('register options: for this RP, user verification required, discoverable, attestation none, the binding cookie set', async () => {
      const b = await signedIn();
      const answer = await api.post<Options>(
        '/webauthn/register/options',
        undefined,
        withCookies(b.jar, b.csrf),
      );
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.rp.id, RP_ID);
      assert.equal(answer.body.authenticatorSelection?.userVerification, 'required');
      assert.equal(answer.body.authenticatorSelection?.residentKey, 'required');
      assert.equal(answer.body.attestation, 'none');
      const cookie = answer.headers.getSetCookie().find((c) => c.startsWith(`${BINDING}=`));
      assert.ok(cookie, 'binding cookie');
      assert.match(cookie, /HttpOnly/i);
      assert.match(cookie, /Secure/i);
      assert.match(cookie, /SameSite=Strict/i);
    });

    it('adds a passkey, signs in with it (no name typed): a cookie session like /login, in the sessions list', async () => {
      const b = await signedIn();
      const auth = new SoftAuthenticator(ORIGIN, RP_ID);
      const added = await finishRegister(b, auth.register(await registerOptions(b)), 'My phone');
      assert.equal(added.status, 201, added.text);
      assert.equal(added.body.name, 'My phone');
      assert.equal(added.body.last_used_at, null);
      assert.deepEqual(Object.keys(added.body).sort(), [
        'created_at',
        'id',
        'last_used_at',
        'name',
      ]);

      const { jar, options } = await loginOptions();
      assert.equal(options.userVerification, 'required');
      assert.deepEqual(options.allowCredentials ?? [], []);
      const answer = await finishLogin(jar, auth.login(options));
      assert.equal(answer.status, 200, answer.text);
      const body = answer.body as {
        user: { id: string; username: string };
        csrf_token: string;
        expires_in: number;
      };
      assert.equal(body.user.id, b.user.id);
      assert.equal(typeof body.csrf_token, 'string');
      assert.equal(typeof body.expires_in, 'number');
      jar.take(answer);
      assert.ok(jar.get(ACCESS));
      const me = await api.get<{ username: string }>('/users/me', withCookies(jar));
      assert.equal(me.body.username, b.user.username);
      const sessions = await api.get<Array<{ current: boolean }>>(
        '/users/me/sessions',
        withCookies(jar),
      );
      assert.equal(sessions.body.length, 2, 'the password session and the passkey one');
      assert.equal(sessions.body.filter((x) => x.current).length, 1);
      const list = await api.get<Array<{ name: string; last_used_at: string | null }>>(
        '/users/me/passkeys',
        withCookies(jar),
      );
      assert.equal(list.body.length, 1);
      assert.ok(list.body[0]?.last_used_at, 'last use recorded');

      const types = (await auditTypes(b.user.id)).map((e) => e.type);
      assert.ok(types.includes('passkey.add'));
      assert.ok(types.includes('passkey.login'));
    });

    it('an account with TOTP signs in with a passkey without a code (a passkey is two factors)', async () => {
      const b = await signedIn('mfa');
      const enrol = await api.post<{ secret: string }>(
        '/users/me/totp',
        undefined,
        withCookies(b.jar, b.csrf),
      );
      assert.equal(enrol.status, 200, enrol.text);
      const code = totp(base32Decode(enrol.body.secret), server.clock());
      const confirm = await api.post(
        '/users/me/totp/confirm',
        { code },
        withCookies(b.jar, b.csrf),
      );
      assert.equal(confirm.status, 200, confirm.text);
      const auth = await addPasskey(b);
      const answer = await signInWith(auth);
      assert.equal(answer.status, 200, answer.text);
    });

    it('list, rename and remove; a removed passkey no longer signs in', async () => {
      const b = await signedIn();
      const auth = await addPasskey(b, 'First');
      await addPasskey(b, 'Second');
      const list = await api.get<Array<{ id: string; name: string }>>(
        '/users/me/passkeys',
        withCookies(b.jar),
      );
      assert.deepEqual(
        list.body.map((p) => p.name),
        ['First', 'Second'],
      );
      const first = list.body[0]?.id as string;
      const renamed = await api.patch(
        `/users/me/passkeys/${first}`,
        { name: 'Work laptop' },
        withCookies(b.jar, b.csrf),
      );
      assert.equal(renamed.status, 200, renamed.text);
      assert.equal(renamed.body.name, 'Work laptop');
      assertRefused(
        await api.patch(`/users/me/passkeys/${first}`, { name: '  ' }, withCookies(b.jar, b.csrf)),
        422,
      );
      assertRefused(
        await api.patch(
          `/users/me/passkeys/${first}`,
          { name: 'a\nb' },
          withCookies(b.jar, b.csrf),
        ),
        422,
      );
      // Another user's passkey is not found, for renaming and removing alike.
      const other = await signedIn();
      assertRefused(
        await api.patch(
          `/users/me/passkeys/${first}`,
          { name: 'x' },
          withCookies(other.jar, other.csrf),
        ),
        404,
      );
      assertRefused(
        await api.del(`/users/me/passkeys/${first}`, undefined, withCookies(other.jar, other.csrf)),
        404,
      );
      const removed = await api.del(
        `/users/me/passkeys/${first}`,
        undefined,
        withCookies(b.jar, b.csrf),
      );
      assert.equal(removed.status, 204, removed.text);
      assertRefused(
        await api.del(`/users/me/passkeys/${first}`, undefined, withCookies(b.jar, b.csrf)),
        404,
      );
      assertRefused(await signInWith(auth));
      const types = (await auditTypes(b.user.id)).map((e) => e.type);
      assert.ok(types.includes('passkey.rename'));
      assert.ok(types.includes('passkey.remove'));
    });

    it('refuses, each with a 4xx and no session: wrong origin, wrong RP id hash, no UV, another key, a registration type', async () => {
      const b = await signedIn();
      const auth = await addPasskey(b);
      const cases: Array<[string, Tamper]> = [
        ['wrong origin', { origin: 'https://evil.example' }],
        ['wrong origin (other port)', { origin: 'http://localhost:9999' }],
        ['wrong RP id hash', { rpId: 'evil.example' }],
        ['user verification missing', { flags: FLAG.UP }],
        ['signature by another key', { signWith: strangerKey() }],
        ['clientData type of a registration', { type: 'webauthn.create' }],
        [
          'another account’s user handle',
          { userHandle: Buffer.from('someone-else').toString('base64url') },
        ],
      ];
      for (const [name, tamper] of cases) {
        const answer = await signInWith(auth, tamper);
        assert.equal(answer.status, 400, `${name}: ${answer.text}`);
        assertRefused(answer);
      }
      assert.equal((await signInWith(auth)).status, 200, 'the honest one still works');
    });

    it('refuses a replayed challenge, a never-issued one, an expired one and one of another browser', async () => {
      const b = await signedIn();
      const auth = await addPasskey(b);
      const { jar, options } = await loginOptions();
      const response = auth.login(options);
      assert.equal((await finishLogin(jar, response)).status, 200);
      assertRefused(await finishLogin(jar, response));
      const fresh = await loginOptions();
      assertRefused(
        await finishLogin(fresh.jar, auth.login({ challenge: 'bmV2ZXItaXNzdWVkLWNoYWxsZW5nZQ' })),
      );
      // Another browser: a different binding cookie, or none at all.
      const mine = await loginOptions();
      const theirs = await loginOptions();
      assertRefused(await finishLogin(theirs.jar, auth.login(mine.options)));
      assertRefused(await finishLogin(new CookieJar(), auth.login(mine.options)));
      // Five minutes and it is gone.
      const late = await loginOptions();
      server.clock.advance(5 * 60_000 + 1);
      assertRefused(await finishLogin(late.jar, auth.login(late.options)));
    });

    it('refuses a counter going backwards, and audits it', async () => {
      const b = await signedIn();
      const auth = await addPasskey(b);
      assert.equal((await signInWith(auth, { counter: 10 })).status, 200);
      assertRefused(await signInWith(auth, { counter: 7 }));
      assertRefused(await signInWith(auth, { counter: 10 }));
      const regression = (await auditTypes(b.user.id)).find(
        (e) => e.type === 'passkey.counter_regression',
      );
      assert.ok(regression, 'audited');
      assert.equal(regression.details.stored, 10);
      assert.equal((await signInWith(auth, { counter: 11 })).status, 200);
    });

    it('refuses a deleted credential and one never registered', async () => {
      const b = await signedIn();
      const auth = await addPasskey(b);
      const [passkey] = (
        await api.get<Array<{ id: string }>>('/users/me/passkeys', withCookies(b.jar))
      ).body;
      await api.del(`/users/me/passkeys/${passkey?.id}`, undefined, withCookies(b.jar, b.csrf));
      assertRefused(await signInWith(auth));
      assertRefused(await signInWith(new SoftAuthenticator(ORIGIN, RP_ID)));
    });

    it('refuses a registration response used for login, and a login response used for registration', async () => {
      const b = await signedIn();
      const auth = await addPasskey(b);
      const { jar, options } = await loginOptions();
      const registration = new SoftAuthenticator(ORIGIN, RP_ID).register({
        ...options,
        user: { id: 'eA' },
      });
      const answer = await finishLogin(jar, registration);
      assert.ok(answer.status >= 400 && answer.status < 500, answer.text);
      assertRefused(answer, answer.status);
      // Registration options, then an assertion of a registered passkey sent as the registration.
      const regOptions = await registerOptions(b);
      const swapped = auth.login(regOptions) as AuthenticationJSON;
      const sent = await finishRegister(b, swapped);
      assert.ok(sent.status >= 400 && sent.status < 500, sent.text);
      // A sign-in challenge is no registration challenge, even with a registration's clientData.
      const again = await loginOptions();
      const crossed = new SoftAuthenticator(ORIGIN, RP_ID).register({
        ...again.options,
        user: { id: 'eA' },
      });
      b.jar.values.set(BINDING, again.jar.get(BINDING) as string);
      assertRefused(await finishRegister(b, crossed), 400);
    });

    it('refuses the same credential registered twice (and to another account), with 409', async () => {
      const b = await signedIn();
      const auth = await addPasskey(b);
      const options = await registerOptions(b);
      assert.deepEqual(
        options.excludeCredentials?.map((c) => c.id),
        [auth.id],
      );
      assertRefused(await finishRegister(b, auth.register(options)), 409);
      const other = await signedIn();
      assertRefused(await finishRegister(other, auth.register(await registerOptions(other))), 409);
      assert.equal(
        (await api.get<unknown[]>('/users/me/passkeys', withCookies(other.jar))).body.length,
        0,
      );
    });

    it('refuses anonymous registration (401), a missing CSRF token (403), a registration without UV, another user’s challenge', async () => {
      assertRefused(await api.post('/webauthn/register/options'), 401);
      const auth = new SoftAuthenticator(ORIGIN, RP_ID);
      assertRefused(
        await api.post('/webauthn/register', {
          response: auth.register({ challenge: 'eA', user: { id: 'eA' } }),
        }),
        401,
      );
      const b = await signedIn();
      assertRefused(
        await api.post('/webauthn/register/options', undefined, withCookies(b.jar)),
        403,
      );
      const options = await registerOptions(b);
      assertRefused(
        await api.post(
          '/webauthn/register',
          { response: auth.register(options) },
          withCookies(b.jar),
        ),
        403,
      );
      assertRefused(
        await finishRegister(b, auth.register(options, { flags: FLAG.UP | FLAG.AT })),
        400,
      );
      // Another signed-in user cannot finish a ceremony started for b, even in b's browser.
      const other = await signedIn();
      const theirOptions = await registerOptions(b);
      other.jar.values.set(BINDING, b.jar.get(BINDING) as string);
      assertRefused(await finishRegister(other, auth.register(theirOptions)), 400);
      // Rename and remove need the CSRF token too.
      assertRefused(
        await api.patch('/users/me/passkeys/x', { name: 'y' }, withCookies(b.jar)),
        403,
      );
      assertRefused(await api.del('/users/me/passkeys/x', undefined, withCookies(b.jar)), 403);
      assert.equal(
        (await api.get<unknown[]>('/users/me/passkeys', withCookies(b.jar))).body.length,
        0,
      );
    });

    it('bad input is a clear 4xx, never a 5xx', async () => {
      const { jar, options } = await loginOptions();
      const auth = new SoftAuthenticator(ORIGIN, RP_ID);
      const good = auth.login(options);
      const bodies: unknown[] = [
        {},
        { response: null },
        { response: { ...good, response: { ...good.response, clientDataJSON: 'not base64!' } } },
        {
          response: {
            ...good,
            response: { ...good.response, clientDataJSON: Buffer.from('{').toString('base64url') },
          },
        },
        { response: { ...good, response: { ...good.response, authenticatorData: 'AAAA' } } },
        { response: { ...good, type: 'password' } },
        { response: { ...good, id: 'x'.repeat(5000) } },
      ];
      for (const body of bodies) {
        const answer = await api.post('/webauthn/login', body, withCookies(jar));
        assert.ok(
          answer.status >= 400 && answer.status < 500,
          `${JSON.stringify(body).slice(0, 80)}: ${answer.status} ${answer.text}`,
        );
      }
      const text = await api.post('/webauthn/login', undefined, {
        ...withCookies(jar),
        raw: 'x',
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(text.status, 415);
    });

    it('two simultaneous verifications of one challenge: at most one signs in', async () => {
      const b = await signedIn();
      const auth = await addPasskey(b);
      for (let round = 0; round < 3; round++) {
        const { jar, options } = await loginOptions();
        const response = auth.login(options);
        const answers = await Promise.all([
          finishLogin(jar, response),
          finishLogin(jar, response),
          finishLogin(jar, response),
        ]);
        const ok = answers.filter((a) => a.status === 200);
        assert.equal(ok.length, 1, answers.map((a) => a.status).join(','));
        for (const a of answers)
          assert.ok(a.status === 200 || (a.status >= 400 && a.status < 500), a.text);
      }
    });

    it('a passkey sign-in completes an /authorize request (SPEC §8): a code for a first-party app', async () => {
      const admin = await superuser(server, api);
      const registered = await api.post<{ client_id: string }>(
        '/admin/clients',
        {
          name: 'Passkey SPA',
          redirect_uris: ['https://app.example/cb'],
          scope: 'openid read',
          first_party: true,
        },
        { token: admin.tokens.access_token },
      );
      assert.equal(registered.status, 201, registered.text);
      const b = await signedIn();
      const auth = await addPasskey(b);
      const { jar, options } = await loginOptions();
      const signed = await finishLogin(jar, auth.login(options));
      assert.equal(signed.status, 200, signed.text);
      jar.take(signed);
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: registered.body.client_id,
        redirect_uri: 'https://app.example/cb',
        scope: 'openid read',
        state: 'st',
        code_challenge: createHash('sha256').update('v'.repeat(43)).digest('base64url'),
        code_challenge_method: 'S256',
      });
      const answer = await fetch(`${server.url}/authorize?${query}`, {
        redirect: 'manual',
        headers: { cookie: jar.header() },
      });
      assert.equal(answer.status, 302, await answer.text());
      const location = new URL(answer.headers.get('location') ?? '');
      assert.equal(location.origin + location.pathname, 'https://app.example/cb');
      assert.ok(location.searchParams.get('code'), 'a code');
      assert.equal(location.searchParams.get('state'), 'st');
    });

    it('the admin list shows a user’s passkey count', async () => {
      const b = await signedIn();
      await addPasskey(b);
      await addPasskey(b, 'Two');
      const admin = await superuser(server, api);
      const answer = await api.get<{ items: Array<{ id: string; passkey_count: number }> }>(
        `/admin/users?q=${b.user.username}`,
        { token: admin.tokens.access_token },
      );
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.items.find((u) => u.id === b.user.id)?.passkey_count, 2);
    });

    it('deleting the account deletes its passkeys', async () => {
      const b = await signedIn();
      const auth = await addPasskey(b);
      const gone = await api.del('/users/me', { password: b.password }, withCookies(b.jar, b.csrf));
      assert.equal(gone.status, 204, gone.text);
      assertRefused(await signInWith(auth));
    });
  });
}

describe('passkeys with an IP-address PUBLIC_URL', () => {
  it('are switched off with a start-up warning; the ceremonies answer 404 passkeys_disabled', async () => {
    const lines: string[] = [];
    const stream = { write: (line: string) => lines.push(line) };
    const server = await startServer({
      env: { PUBLIC_URL: 'http://127.0.0.1:8000', LOG_LEVEL: 'warn' },
      logger: { level: 'warn', stream },
    });
    try {
      const api = client(server.url);
      assert.ok(
        lines.some((l) => /passkeys are off/.test(l) && /IP address/.test(l)),
        lines.join('\n'),
      );
      const options = await api.post('/webauthn/login/options');
      assert.equal(options.status, 404);
      assert.equal(options.body.code, 'passkeys_disabled');
      const who = newIdentity('ip');
      await api.post('/register', who);
      const b = await cookieLogin(api, who.username, who.password);
      const reg = await api.post(
        '/webauthn/register/options',
        undefined,
        withCookies(b.jar, b.csrf),
      );
      assert.equal(reg.status, 404);
      const list = await api.get<unknown[]>('/users/me/passkeys', withCookies(b.jar));
      assert.deepEqual(list.body, []);
    } finally {
      await server.close();
    }
  });
});

describe('@simplewebauthn/browser, served by the server', () => {
  it('serves its ES modules (same origin, no CDN) and nothing else of the package', async () => {
    const server = await startServer();
    try {
      const api = client(server.url);
      for (const path of ['index.js', 'methods/startRegistration.js', 'helpers/webAuthnError.js']) {
        const answer = await api.get(`/assets/vendor/simplewebauthn/${path}`);
        assert.equal(answer.status, 200, path);
        assert.match(answer.headers.get('content-type') ?? '', /javascript/);
      }
      for (const path of [
        'index.d.ts',
        'index.js.map',
        'package.json',
        '../package.json',
        '%2e%2e/package.json',
      ]) {
        const answer = await api.get(`/assets/vendor/simplewebauthn/${path}`);
        assert.ok([400, 403, 404].includes(answer.status), `${path}: ${answer.status}`);
      }
    } finally {
      await server.close();
    }
  });
});

describe('passkey failures and the lockout (§5), by credential', () => {
  it('failed assertions of one passkey slow that passkey down (429), not others', async () => {
    const server = await startServer({
      env: { LOCKOUT_THRESHOLD: '2', LOCKOUT_BASE_SECONDS: '60' },
    });
    try {
      const api = client(server.url);
      const who = newIdentity('lock');
      await api.post('/register', who);
      const b = await cookieLogin(api, who.username, who.password);
      async function add(): Promise<SoftAuthenticator> {
        const options = await api.post<Options>(
          '/webauthn/register/options',
          undefined,
          withCookies(b.jar, b.csrf),
        );
        b.jar.take(options);
        const auth = new SoftAuthenticator(ORIGIN, RP_ID);
        const added = await api.post(
          '/webauthn/register',
          { response: auth.register(options.body) },
          withCookies(b.jar, b.csrf),
        );
        assert.equal(added.status, 201, added.text);
        return auth;
      }
      async function attempt(auth: SoftAuthenticator, tamper: Tamper = {}): Promise<Answer> {
        const jar = new CookieJar();
        const options = await api.post<Options>(
          '/webauthn/login/options',
          undefined,
          withCookies(jar),
        );
        jar.take(options);
        return api.post(
          '/webauthn/login',
          { response: auth.login(options.body, tamper) },
          withCookies(jar),
        );
      }
      const target = await add();
      const other = await add();
      assert.equal((await attempt(target, { signWith: strangerKey() })).status, 400);
      assert.equal((await attempt(target, { signWith: strangerKey() })).status, 400);
      const locked = await attempt(target);
      assert.equal(locked.status, 429, locked.text);
      assert.equal(locked.body.code, 'too_many_attempts');
      assert.ok(Number(locked.headers.get('retry-after')) > 0);
      assert.equal(
        (await attempt(other)).status,
        200,
        'another passkey of the account still works',
      );
      server.clock.advance(61_000);
      assert.equal((await attempt(target)).status, 200, 'after the delay');
    } finally {
      await server.close();
    }
  });
});
