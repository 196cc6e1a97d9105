// ID-token signing keys (SPEC §8, issue 12): one current key per algorithm, shared by access and ID
// tokens where the algorithm is the same; RS256/ES256 keys made once on first use (also across
// instances racing for it), published in the JWKS, rotated by `keys rotate`; an ID-token key no
// secret opens never stops a start. And src/tokens/id-token.ts against jose: signed ID tokens,
// at_hash, and the id_token_hint check of RP-Initiated Logout. Real SQLite and PostgreSQL stores.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { Algorithm } from '../../src/config/settings.ts';
import { deriveKey } from '../../src/crypto/random.ts';
import { openDatabase } from '../../src/store/database.ts';
import { createStore, type Store } from '../../src/store/index.ts';
import { atHash, signIdToken, verifyIdTokenHint } from '../../src/tokens/id-token.ts';
import { signJws } from '../../src/tokens/jws-sign.ts';
import {
  generateSigningKey,
  type KeyRing,
  openKeyRing,
  rotateSigningKey,
} from '../../src/tokens/keys.ts';
import { T0, withFreshStore } from '../store/harness.ts';
import { claimsOf } from '../support/fixtures.ts';
import { client, registerAndLogin } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { cli } from '../support/process.ts';
import { startServer, testClock, testEnv } from '../support/server.ts';

const ISSUER = 'http://localhost:8000';
const TTL_SECONDS = 900;

interface RingSetup {
  store: Store;
  algorithm: Algorithm;
  secret?: Uint8Array;
  previous?: Uint8Array[];
  clock?: () => number;
  warnings?: string[];
}

function ringOptions(setup: RingSetup) {
  return {
    store: setup.store,
    algorithm: setup.algorithm,
    secretKey: setup.secret ?? SECRET_A,
    previousSecretKeys: setup.previous ?? [],
    accessTokenTtlSeconds: TTL_SECONDS,
    clock: setup.clock ?? (() => T0),
    onUnreadableKey: (message: string) => setup.warnings?.push(message),
  };
}

const SECRET_A = randomBytes(32);
const SECRET_B = randomBytes(32);

const ring = (setup: RingSetup): Promise<KeyRing> => openKeyRing(ringOptions(setup));

async function currentRows(store: Store, alg: string) {
  return (await store.signingKeys.list()).filter((k) => k.alg === alg && k.retiredAt === null);
}

/** A second, independent connection pool on the same database: another instance. */
async function secondInstance<T>(url: string, run: (store: Store) => Promise<T>): Promise<T> {
  const db = await openDatabase(url);
  try {
    return await run(createStore(db));
  } finally {
    await db.close();
  }
}

function idClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    sub: 'user-1',
    aud: 'client-1',
    iat: now,
    exp: now + 300,
    auth_time: now,
    sid: 'session-1',
    ...overrides,
  };
}

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

for (const db of testDatabases()) {
  describe(`ID-token signing keys on ${db}`, () => {
    it('HS256: the JWKS stays empty until an ID-token key is first used, then publishes only that key; no key is made at start', async () => {
      await withFreshStore(db, async ({ store }) => {
        const keys = await ring({ store, algorithm: 'HS256' });
        assert.deepEqual(keys.jwks(), { keys: [] });
        assert.deepEqual(await store.signingKeys.list(), [], 'no RSA or EC key generated at start');
        const hmacKid = keys.signing().kid;
        const rs = await keys.idTokenSigning('RS256');
        const published = keys.jwks().keys;
        assert.equal(published.length, 1);
        const [jwk] = published;
        assert.equal(jwk?.kid, rs.kid);
        assert.equal(jwk?.alg, 'RS256');
        assert.equal(jwk?.use, 'sig');
        assert.equal(jwk?.kty, 'RSA');
        // Public halves only: no private exponent, no symmetric key.
        for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
          assert.equal(member in (jwk ?? {}), false, member);
        // Access tokens still sign and verify with SECRET_KEY only.
        assert.equal(keys.signing().kid, hmacKid);
        assert.equal(keys.verification(rs.kid), undefined);
        assert.equal(keys.idTokenVerification(rs.kid)?.alg, 'RS256');
        assert.equal(keys.idTokenVerification(hmacKid), undefined);
      });
    });

    it('ES256: the ES256 ID-token key is the access-token key (one key per algorithm), listed once', async () => {
      await withFreshStore(db, async ({ store }) => {
        const keys = await ring({ store, algorithm: 'ES256' });
        const access = keys.signing();
        const id = await keys.idTokenSigning('ES256');
        assert.equal(id.kid, access.kid);
        assert.equal(id.key, access.key);
        assert.deepEqual(
          keys.jwks().keys.map((k) => k.kid),
          [access.kid],
        );
        assert.equal((await store.signingKeys.list()).length, 1);
        assert.equal(keys.idTokenVerification(access.kid)?.alg, 'ES256');
      });
    });

    it('RS256 is made once: a second call and another instance (a restart) use the same kid without inserting', async () => {
      await withFreshStore(db, async ({ store, url }) => {
        const keys = await ring({ store, algorithm: 'ES256' });
        const access = keys.signing().kid;
        const first = await keys.idTokenSigning('RS256');
        assert.equal((await keys.idTokenSigning('RS256')).kid, first.kid);
        const rows = await store.signingKeys.list();
        assert.deepEqual(rows.map((k) => k.alg).sort(), ['ES256', 'RS256']);
        await secondInstance(url, async (other) => {
          const restarted = await ring({ store: other, algorithm: 'ES256' });
          assert.equal(restarted.signing().kid, access);
          assert.deepEqual(
            new Set(restarted.jwks().keys.map((k) => k.kid)),
            new Set([access, first.kid]),
          );
          assert.equal((await restarted.idTokenSigning('RS256')).kid, first.kid);
        });
        assert.deepEqual(await store.signingKeys.list(), rows, 'nothing inserted');
        assert.deepEqual(new Set(keys.jwks().keys.map((k) => k.kid)), new Set([access, first.kid]));
      });
    });

    it('two instances making the first RS256 key at once end with one current RS256 key, both signing with it', async () => {
      await withFreshStore(db, async ({ store, url }) => {
        await secondInstance(url, async (other) => {
          const [a, b] = await Promise.all([
            ring({ store, algorithm: 'HS256' }),
            ring({ store: other, algorithm: 'HS256' }),
          ]);
          // Each instance also asks twice at once (two requests): one generation per process.
          const made = await Promise.all([
            a.idTokenSigning('RS256'),
            b.idTokenSigning('RS256'),
            a.idTokenSigning('RS256'),
            b.idTokenSigning('RS256'),
          ]);
          assert.equal(new Set(made.map((m) => m.kid)).size, 1, 'one kid everywhere');
          const current = await currentRows(store, 'RS256');
          assert.equal(current.length, 1);
          assert.equal(current[0]?.kid, made[0]?.kid);
          assert.equal(
            (await store.signingKeys.list()).length,
            1,
            "the loser's key was not stored",
          );
          assert.deepEqual(a.jwks(), b.jwks());
        });
      });
    });

    it('keys rotate rotates every algorithm in use; old kids stay in the JWKS for a token lifetime', async () => {
      await withFreshStore(db, async ({ store }) => {
        const clock = testClock(T0);
        const keys = await ring({ store, algorithm: 'ES256', clock });
        const oldEs = keys.signing().kid;
        const oldRs = (await keys.idTokenSigning('RS256')).kid;
        clock.advance(1000);
        const fresh = await rotateSigningKey(ringOptions({ store, algorithm: 'ES256', clock }));
        assert.deepEqual(
          fresh.map((k) => k.alg),
          ['ES256', 'RS256'],
        );
        await keys.reload();
        const newEs = keys.signing().kid;
        const newRs = (await keys.idTokenSigning('RS256')).kid;
        assert.equal(newEs, fresh[0]?.kid);
        assert.equal(newRs, fresh[1]?.kid);
        assert.equal((await keys.idTokenSigning('ES256')).kid, newEs);
        assert.deepEqual(
          new Set(keys.jwks().keys.map((k) => k.kid)),
          new Set([oldEs, oldRs, newEs, newRs]),
        );
        assert.ok(keys.verification(oldEs), 'old access tokens still verify');
        assert.equal(keys.idTokenVerification(oldRs)?.alg, 'RS256');
        assert.equal((await currentRows(store, 'RS256')).length, 1);
        assert.equal((await currentRows(store, 'ES256')).length, 1);
        // Past one access-token lifetime and the margin, the retired keys are gone.
        clock.advance(TTL_SECONDS * 1000 + 61_000);
        await keys.reload();
        assert.deepEqual(new Set(keys.jwks().keys.map((k) => k.kid)), new Set([newEs, newRs]));
        assert.equal(keys.idTokenVerification(oldRs), undefined);
      });
    });

    it("keys rotate under HS256: only the ID-token algorithms present, and today's error when there are none", async () => {
      await withFreshStore(db, async ({ store }) => {
        await assert.rejects(
          rotateSigningKey(ringOptions({ store, algorithm: 'HS256' })),
          /ALGORITHM=HS256 signs with SECRET_KEY: rotate by changing SECRET_KEY/,
        );
        const keys = await ring({ store, algorithm: 'HS256' });
        const old = (await keys.idTokenSigning('RS256')).kid;
        const fresh = await rotateSigningKey(ringOptions({ store, algorithm: 'HS256' }));
        assert.deepEqual(
          fresh.map((k) => k.alg),
          ['RS256'],
        );
        await keys.reload();
        assert.equal((await keys.idTokenSigning('RS256')).kid, fresh[0]?.kid);
        assert.notEqual(fresh[0]?.kid, old);
        assert.equal((await currentRows(store, 'ES256')).length, 0, 'no ES256 key made');
      });
    });

    it('verification() (access tokens) never returns an RS256 ID-token key under ES256: no algorithm confusion', async () => {
      await withFreshStore(db, async ({ store }) => {
        const keys = await ring({ store, algorithm: 'ES256' });
        const rs = await keys.idTokenSigning('RS256');
        assert.equal(keys.verification(rs.kid), undefined);
        assert.ok(keys.verification(keys.signing().kid));
        await keys.reload();
        assert.equal(keys.verification(rs.kid), undefined, 'not after a reload either');
      });
    });

    it('an RS256 key no secret opens does not stop the start; idTokenSigning retires it and makes a fresh one', async () => {
      await withFreshStore(db, async ({ store }) => {
        // An RS256 key sealed with a secret this server does not have (SECRET_KEY changed without
        // PREVIOUS_SECRET_KEYS), beside an ES256 access key it can open.
        const foreign = await generateSigningKey('RS256', deriveKey(SECRET_B, 'signing-keys'), T0);
        assert.equal(await store.signingKeys.insertCurrent(foreign), true);
        const warnings: string[] = [];
        const keys = await ring({ store, algorithm: 'ES256', warnings });
        assert.equal(warnings.length, 1);
        assert.match(warnings[0] ?? '', new RegExp(foreign.kid));
        assert.match(warnings[0] ?? '', /PREVIOUS_SECRET_KEYS/);
        assert.equal(
          keys.jwks().keys.some((k) => k.kid === foreign.kid),
          false,
        );
        assert.equal(keys.idTokenVerification(foreign.kid), undefined);
        const fresh = await keys.idTokenSigning('RS256');
        assert.notEqual(fresh.kid, foreign.kid);
        const rows = await store.signingKeys.list();
        assert.notEqual(rows.find((k) => k.kid === foreign.kid)?.retiredAt, null, 'retired');
        assert.deepEqual(
          (await currentRows(store, 'RS256')).map((k) => k.kid),
          [fresh.kid],
        );
        assert.ok(keys.jwks().keys.some((k) => k.kid === fresh.kid));
        await keys.reload();
        assert.equal(warnings.length, 1, 'warned once per key');
        // With the old secret in PREVIOUS_SECRET_KEYS the retired key opens and verifies again.
        const healed = await ring({ store, algorithm: 'ES256', previous: [SECRET_B] });
        assert.equal(healed.idTokenVerification(foreign.kid)?.alg, 'RS256');
      });
    });

    it('HS256 after a SECRET_KEY change: the old RS256 ID-token key is skipped and replaced; ES256 after one still refuses to start', async () => {
      await withFreshStore(db, async ({ store }) => {
        const before = await ring({ store, algorithm: 'HS256', secret: SECRET_A });
        const old = (await before.idTokenSigning('RS256')).kid;
        const after = await ring({ store, algorithm: 'HS256', secret: SECRET_B });
        assert.deepEqual(after.jwks(), { keys: [] });
        const fresh = (await after.idTokenSigning('RS256')).kid;
        assert.notEqual(fresh, old);
        assert.deepEqual(
          (await currentRows(store, 'RS256')).map((k) => k.kid),
          [fresh],
        );
      });
      await withFreshStore(db, async ({ store }) => {
        await ring({ store, algorithm: 'ES256', secret: SECRET_A });
        await assert.rejects(
          ring({ store, algorithm: 'ES256', secret: SECRET_B }),
          /cannot be decrypted with SECRET_KEY or PREVIOUS_SECRET_KEYS/,
        );
      });
    });
  });

  describe(`ID tokens (src/tokens/id-token.ts) on ${db}`, () => {
    it('signIdToken: both algorithms verify with jose against the JWKS, header exactly {alg, typ: JWT, kid}', async () => {
      await withFreshStore(db, async ({ store }) => {
        const keys = await ring({ store, algorithm: 'EdDSA' });
        for (const alg of ['RS256', 'ES256'] as const) {
          const claims = idClaims({ nonce: 'n-0S6_WzA2Mj', at_hash: atHash('token', alg) });
          const token = await signIdToken(keys, alg, claims);
          const header = decodeProtectedHeader(token);
          assert.deepEqual(header, { alg, typ: 'JWT', kid: (await keys.idTokenSigning(alg)).kid });
          const { payload, protectedHeader } = await jwtVerify(
            token,
            createLocalJWKSet(keys.jwks()),
            { algorithms: [alg], typ: 'JWT', issuer: ISSUER, audience: 'client-1' },
          );
          assert.deepEqual(payload, claims);
          assert.equal(protectedHeader.kid, header.kid);
          // The EdDSA access key is not an ID-token key.
          assert.equal(keys.idTokenVerification(keys.signing().kid), undefined);
        }
      });
    });

    it('verifyIdTokenHint: a hint signed by a key another instance just made is accepted (one re-read of the keys)', async () => {
      await withFreshStore(db, async ({ store, url }) => {
        const here = await ring({ store, algorithm: 'HS256' });
        const hint = await secondInstance(url, async (other) => {
          const there = await ring({ store: other, algorithm: 'HS256' });
          return signIdToken(there, 'ES256', idClaims());
        });
        assert.deepEqual(here.jwks(), { keys: [] }, 'not reloaded yet');
        assert.deepEqual(await verifyIdTokenHint(here, hint, ISSUER), {
          sub: 'user-1',
          aud: 'client-1',
          sid: 'session-1',
        });
        assert.equal(here.jwks().keys.length, 1);
      });
    });

    it('atHash: the left half of SHA-256, base64url, for both algorithms', () => {
      // A published vector (an access token and its at_hash from an OpenID Connect library's tests).
      const token = 'ya29.OwHWAP05yaZvR92b67pAxfX5xHH5KNxA1mhh-zInoQ5vhK-Vuib1-Hqj';
      assert.equal(atHash(token, 'RS256'), '-EsTxDmUFRxSI0H_ZpbHiw');
      assert.equal(atHash(token, 'ES256'), '-EsTxDmUFRxSI0H_ZpbHiw');
      // And computed here another way: hex digest, first 32 hex digits, base64url without padding.
      const other = 'eyJhbGciOiJFUzI1NiJ9.some.access-token';
      const hex = createHash('sha256').update(Buffer.from(other, 'ascii')).digest('hex');
      const expected = Buffer.from(hex.slice(0, 32), 'hex')
        .toString('base64')
        .replaceAll('+', '-')
        .replaceAll('/', '_')
        .replace(/=+$/, '');
      assert.equal(atHash(other, 'ES256'), expected);
      assert.equal(atHash(other, 'RS256').length, 22);
    });

    it('verifyIdTokenHint: accepts its own hints (also expired ones), refuses everything else without throwing', async () => {
      await withFreshStore(db, async ({ store }) => {
        const keys = await ring({ store, algorithm: 'ES256' });
        const now = Math.floor(Date.now() / 1000);
        const hint = (claims: Record<string, unknown> = {}, alg: 'RS256' | 'ES256' = 'RS256') =>
          signIdToken(keys, alg, idClaims(claims));
        const check = (token: string, issuer = ISSUER) => verifyIdTokenHint(keys, token, issuer);

        assert.deepEqual(await check(await hint()), {
          sub: 'user-1',
          aud: 'client-1',
          sid: 'session-1',
        });
        assert.deepEqual(await check(await hint({}, 'ES256')), {
          sub: 'user-1',
          aud: 'client-1',
          sid: 'session-1',
        });
        // RP-Initiated Logout accepts an expired hint.
        assert.deepEqual(
          await check(
            await hint({ iat: now - 86_400 * 30, exp: now - 86_400 * 29, sid: undefined }),
          ),
          { sub: 'user-1', aud: 'client-1' },
        );
        assert.deepEqual(await check(await hint({ aud: ['client-1'] })), {
          sub: 'user-1',
          aud: 'client-1',
          sid: 'session-1',
        });
        // iat within the 5 s leeway passes; beyond it, a token from the future is refused.
        assert.ok(await check(await hint({ iat: now + 2 })));
        assert.equal(await check(await hint({ iat: now + 60 })), undefined);
        // An injected clock decides, not the wall clock.
        assert.equal(
          await verifyIdTokenHint(keys, await hint(), ISSUER, (now - 60) * 1000),
          undefined,
        );

        const good = await hint();
        assert.equal(await check(good, 'https://evil.example'), undefined, 'wrong issuer');
        assert.equal(await check(await hint({ iss: 'https://evil.example' })), undefined);
        const [h, p, s] = good.split('.') as [string, string, string];
        const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
        assert.equal(await check(`${h}.${p}.${flipped}`), undefined, 'tampered signature');
        const otherPayload = b64({ ...claimsOf(good), sub: 'admin' });
        assert.equal(await check(`${h}.${otherPayload}.${s}`), undefined, 'tampered payload');
        const kid = (await keys.idTokenSigning('RS256')).kid;
        for (const none of ['none', 'None', 'NONE']) {
          const unsigned = `${b64({ alg: none, typ: 'JWT', kid })}.${b64(idClaims())}.`;
          assert.equal(await check(unsigned), undefined, `alg ${none}`);
        }
        // An HS256 token "signed" with a published public key, or with any secret: refused.
        const publicJwk = keys.jwks().keys.find((k) => k.kid === kid);
        const hs = signJws(
          'HS256',
          { typ: 'JWT', kid },
          idClaims(),
          Buffer.from(JSON.stringify(publicJwk)),
        );
        assert.equal(await check(hs), undefined, 'HS256');
        assert.equal(
          await check(signJws('HS256', { typ: 'JWT', kid }, idClaims(), randomBytes(32))),
          undefined,
        );
        // An access token (typ at+jwt) signed with the ES256 key, which is also an ID-token key.
        const access = keys.signing();
        const accessToken = signJws(
          'ES256',
          { typ: 'at+jwt', kid: access.kid },
          idClaims(),
          access.key,
        );
        assert.equal(await check(accessToken), undefined, 'typ at+jwt');
        // The RS256 kid with an ES256 signature (header alg swapped): the key's own alg only.
        const es = await signIdToken(keys, 'ES256', idClaims());
        const [, esPayload, esSignature] = es.split('.') as [string, string, string];
        assert.equal(
          await check(`${b64({ alg: 'ES256', typ: 'JWT', kid })}.${esPayload}.${esSignature}`),
          undefined,
        );
        assert.equal(await check(await hint({ sub: undefined })), undefined, 'no sub');
        assert.equal(await check(await hint({ sub: 42 })), undefined, 'sub not a string');
        assert.equal(
          await check(await hint({ aud: ['client-1', 'client-2'] })),
          undefined,
          'two audiences',
        );
        assert.equal(await check(await hint({ aud: undefined })), undefined, 'no aud');
        assert.equal(await check(await hint({ iat: undefined })), undefined, 'no iat');
        assert.equal(await check(await hint({ sid: 7 })), undefined, 'sid not a string');
        const unknownKid = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'nope' })}.${p}.${s}`;
        assert.equal(await check(unknownKid), undefined, 'unknown kid');
        const embedded = `${b64({ alg: 'RS256', typ: 'JWT', jwk: publicJwk })}.${p}.${s}`;
        assert.equal(await check(embedded), undefined, 'embedded jwk, no kid');
        const crit = `${b64({ alg: 'RS256', typ: 'JWT', kid, crit: ['exp'], exp: 1 })}.${p}.${s}`;
        assert.equal(await check(crit), undefined, 'unknown crit');
        for (const garbage of [
          '',
          'garbage',
          'a.b.c',
          '...',
          `${h}.${p}`,
          'x'.repeat(100_000),
          `${good}.extra`,
        ])
          assert.equal(await check(garbage), undefined, garbage.slice(0, 20));
        for (const notString of [undefined, null, 42, {}, ['a']])
          assert.equal(await check(notString as unknown as string), undefined);
      });
    });
  });

  describe(`ID-token keys through a real server on ${db}`, () => {
    it('the JWKS endpoint publishes the ID-token key; an access token re-signed with it is refused (algorithm confusion)', async () => {
      const server = await startServer({ db, env: { ALGORITHM: 'ES256' } });
      try {
        const api = client(server.url);
        const user = await registerAndLogin(api);
        const keys = server.app.services.keys;
        const rs = await keys.idTokenSigning('RS256');
        const jwks = await api.get<{ keys: Array<{ kid: string; alg: string }> }>(
          '/.well-known/jwks.json',
        );
        assert.deepEqual(jwks.body.keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
        assert.ok(jwks.body.keys.some((k) => k.kid === rs.kid));
        assert.equal((await api.get('/users/me', { token: user.tokens.access_token })).status, 200);
        // The same claims, a valid RS256 signature by the server's own ID-token key: still refused.
        const forged = signJws(
          'RS256',
          { typ: 'at+jwt', kid: rs.kid },
          claimsOf(user.tokens.access_token),
          rs.key,
        );
        const refused = await api.get('/users/me', { token: forged });
        assert.equal(refused.status, 401);
      } finally {
        await server.close();
      }
    });

    it('portcullis keys rotate prints one line per algorithm in use; keys list shows what each key signs', async () => {
      const SECRET = 'a-test-secret-of-at-least-thirty-two-bytes';
      const server = await startServer({ db, env: { ALGORITHM: 'ES256', SECRET_KEY: SECRET } });
      try {
        const keys = server.app.services.keys;
        const es = keys.signing().kid;
        const rs = (await keys.idTokenSigning('RS256')).kid;
        const env = testEnv(server.dataDir, server.databaseUrl, {
          ALGORITHM: 'ES256',
          SECRET_KEY: SECRET,
        });
        const rotated = await cli(['keys', 'rotate'], env);
        assert.equal(rotated.code, 0, rotated.stderr);
        const lines = rotated.stdout.trim().split('\n');
        assert.equal(lines.length, 2, rotated.stdout);
        assert.match(lines[0] ?? '', /^New signing key \S+ \(ES256, access\+id_token\)/);
        assert.match(lines[1] ?? '', /^New signing key \S+ \(RS256, id_token\)/);
        const newEs = /New signing key (\S+) \(ES256/.exec(rotated.stdout)?.[1] ?? '';
        const newRs = /New signing key (\S+) \(RS256/.exec(rotated.stdout)?.[1] ?? '';
        const listed = await cli(['keys', 'list'], env);
        assert.equal(listed.code, 0, listed.stderr);
        assert.match(listed.stdout, new RegExp(`${newEs}\\s+ES256\\s+access\\+id_token.*signing`));
        assert.match(listed.stdout, new RegExp(`${newRs}\\s+RS256\\s+id_token.*signing`));
        assert.match(listed.stdout, new RegExp(`${es}\\s+ES256.*verifying`));
        assert.match(listed.stdout, new RegExp(`${rs}\\s+RS256.*verifying`));
        await keys.reload();
        assert.equal(keys.signing().kid, newEs);
        assert.equal((await keys.idTokenSigning('RS256')).kid, newRs);
      } finally {
        await server.close();
      }
    });

    it('HS256: /.well-known/jwks.json is empty until an ID token key exists, then lists only it', async () => {
      const server = await startServer({ db, env: { ALGORITHM: 'HS256' } });
      try {
        const api = client(server.url);
        const empty = await api.get<{ keys: unknown[] }>('/.well-known/jwks.json');
        assert.deepEqual(empty.body, { keys: [] });
        const rs = await server.app.services.keys.idTokenSigning('RS256');
        const one = await api.get<{ keys: Array<{ kid: string; alg: string; use: string }> }>(
          '/.well-known/jwks.json',
        );
        assert.deepEqual(
          one.body.keys.map((k) => [k.kid, k.alg, k.use]),
          [[rs.kid, 'RS256', 'sig']],
        );
      } finally {
        await server.close();
      }
    });
  });
}
