// The `portcullis` command as an operator uses it: create users, set passwords, rotate keys, and
// start-up refusing bad configuration. Real processes, a real server, a real database.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { claimsOf, headerOf, wait } from '../support/fixtures.ts';
import { client, login } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import {
  type CliWorld,
  cli,
  cliWorld,
  type ServerProcess,
  serveProcess,
} from '../support/process.ts';

for (const db of testDatabases()) {
  describe(`portcullis CLI on ${db}`, () => {
    let world: CliWorld;
    let env: Record<string, string>;
    let server: ServerProcess;

    before(async () => {
      world = await cliWorld(db, 'portcullis-cli-', { KEYS_RELOAD_SECONDS: '1' });
      ({ env, server } = world);
      assert.match(world.migrated.stdout, /Applied: 2026_11_23_000001_initial/);
    });
    after(() => world?.close());

    it('migrate is idempotent', async () => {
      const again = await cli(['migrate'], env);
      assert.equal(again.code, 0);
      assert.match(again.stdout, /up to date/);
    });

    it('user create --superuser (password on stdin) makes an admin who can list users', async () => {
      const made = await cli(
        ['user', 'create', '--superuser', '--email', 'root@example.com', '--username', 'root'],
        env,
        'root password of the test\n',
      );
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, /Created superuser root/);
      const api = client(server.url);
      const tokens = await login(api, 'root', 'root password of the test');
      assert.match(tokens.scope, /\badmin\b/);
      const list = await api.get<{ items: Array<{ username: string }> }>('/admin/users', {
        token: tokens.access_token,
      });
      assert.equal(list.status, 200);
      assert.ok(list.body.items.some((u) => u.username === 'root'));
    });

    it('user create refuses a weak password and a duplicate, with a reason', async () => {
      const weak = await cli(
        [
          'user',
          'create',
          '--email',
          'w@example.com',
          '--username',
          'weakling',
          '--password',
          'password',
        ],
        env,
      );
      assert.equal(weak.code, 1, weak.stderr);
      assert.match(weak.stderr, /password: This password is too common/);
      const dup = await cli(
        [
          'user',
          'create',
          '--email',
          'other@example.com',
          '--username',
          'ROOT',
          '--password',
          'another fine password',
        ],
        env,
      );
      assert.equal(dup.code, 1, dup.stderr);
      assert.match(dup.stderr, /already exists/);
    });

    it('user set-password replaces the password and ends the user’s sessions', async () => {
      await cli(
        [
          'user',
          'create',
          '--email',
          'pw@example.com',
          '--username',
          'pwuser',
          '--password',
          'first password here',
        ],
        env,
      );
      const api = client(server.url);
      const before = await login(api, 'pwuser', 'first password here');
      const set = await cli(['user', 'set-password', 'pwuser'], env, 'second password here\n');
      assert.equal(set.code, 0, set.stderr);
      await wait(1500); // another process wrote the revocation: the server's poll picks it up
      assert.equal((await api.get('/users/me', { token: before.access_token })).status, 401);
      await login(api, 'pwuser', 'second password here');
      assert.equal(
        (
          await api.post(
            '/token',
            { username: 'pwuser', password: 'first password here' },
            { form: true },
          )
        ).status,
        400,
      );
    });

    it('keys rotate: old tokens still verify, new tokens carry the new kid', async () => {
      await cli(
        [
          'user',
          'create',
          '--email',
          'k@example.com',
          '--username',
          'keyuser',
          '--password',
          'key user password',
        ],
        env,
      );
      const api = client(server.url);
      const old = await login(api, 'keyuser', 'key user password');
      const oldKid = headerOf(old.access_token).kid;
      const rotated = await cli(['keys', 'rotate'], env);
      assert.equal(rotated.code, 0, rotated.stderr);
      const newKid = /New signing key (\S+)/.exec(rotated.stdout)?.[1];
      assert.ok(newKid && newKid !== oldKid);
      await wait(1500); // KEYS_RELOAD_SECONDS=1
      const fresh = await login(api, 'keyuser', 'key user password');
      assert.equal(headerOf(fresh.access_token).kid, newKid);
      assert.equal((await api.get('/users/me', { token: old.access_token })).status, 200);
      assert.equal((await api.get('/users/me', { token: fresh.access_token })).status, 200);
      const jwks = await api.get<{ keys: Array<{ kid: string }> }>('/.well-known/jwks.json');
      assert.deepEqual(new Set(jwks.body.keys.map((k) => k.kid)), new Set([oldKid, newKid]));
      const listed = await cli(['keys', 'list'], env);
      assert.match(listed.stdout, new RegExp(`${newKid}.*signing`));
      assert.match(listed.stdout, new RegExp(`${oldKid}.*verifying`));
      assert.equal(claimsOf(fresh.access_token).iss, 'http://localhost:8000');
    });

    it('serve --workers 2 shares logins and revocations across worker processes', async () => {
      const workers = await serveProcess({ ...env, LOG_LEVEL: 'info' }, [
        'serve',
        '--workers',
        '2',
      ]);
      try {
        await cli(
          [
            'user',
            'create',
            '--email',
            'wk@example.com',
            '--username',
            'worker',
            '--password',
            'worker password here',
          ],
          env,
        );
        const api = client(workers.url);
        const tokens = await login(api, 'worker', 'worker password here');
        const pids = new Set<string>();
        for (let i = 0; i < 6; i++) {
          const answer = await api.get('/users/me', {
            token: tokens.access_token,
            headers: { connection: 'close' },
          });
          assert.equal(answer.status, 200);
        }
        assert.equal(
          (await api.post('/logout', undefined, { token: tokens.access_token })).status,
          204,
        );
        await wait(1500); // the other worker reads the revocation within REVOCATION_POLL_MS
        for (let i = 0; i < 6; i++) {
          const answer = await api.get('/users/me', {
            token: tokens.access_token,
            headers: { connection: 'close' },
          });
          assert.equal(answer.status, 401, `request ${i}`);
        }
        for (const match of workers.output().matchAll(/"pid":(\d+)[^\n]*Server listening/g))
          pids.add(match[1] ?? '');
        assert.equal(pids.size, 2, 'two worker processes listened');
      } finally {
        await workers.stop();
      }
    });

    it('shuts down gracefully on SIGTERM', async () => {
      const second = await serveProcess(env);
      assert.equal(await second.stop('SIGTERM'), 0);
      assert.match(second.output(), /shutting down/);
    });
  });
}

describe('configuration errors stop the server with the variable named', () => {
  const base = { DATA_DIR: join(tmpdir(), 'portcullis-never-created'), LOG_LEVEL: 'silent' };
  for (const [name, extra, pattern] of [
    ['a port that is not a number', { PORT: 'eighty' }, /PORT: must be a whole number/],
    ['an unknown algorithm', { ALGORITHM: 'HS512' }, /ALGORITHM: must be one of/],
    [
      'production without SECRET_KEY',
      { NODE_ENV: 'production' },
      /SECRET_KEY: required when NODE_ENV=production/,
    ],
    [
      'production with a short SECRET_KEY',
      { NODE_ENV: 'production', SECRET_KEY: 'too-short' },
      /SECRET_KEY: must be at least 32 bytes/,
    ],
    [
      'password hashing below OWASP outside tests',
      { PASSWORD_HASH_MEMORY_KIB: '1024' },
      /PASSWORD_HASH_MEMORY_KIB: must be at least 19456/,
    ],
    [
      'a database URL of another kind',
      { DATABASE_URL: 'mysql://x' },
      /DATABASE_URL: must start with/,
    ],
  ] as const) {
    it(`refuses ${name}`, async () => {
      const ran = await cli(['serve'], { ...base, ...extra });
      assert.equal(ran.code, 78, ran.stderr);
      assert.match(ran.stderr, pattern);
    });
  }
});
