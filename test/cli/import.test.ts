// `portcullis user import` with hashes made by outside implementations (passlib, werkzeug): every
// imported user logs in over HTTP with their old password and is upgraded to argon2id; rejected
// rows are reported with their line and reason, and the good rows around them are imported.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { register } from '../../src/auth/accounts/index.ts';
import { client, login } from '../support/http.ts';
import { createTempPgDatabase, testDatabases } from '../support/postgres.ts';
import { cli, type Ran } from '../support/process.ts';
import { startServer, type TestServer, testEnv } from '../support/server.ts';

interface Case {
  label: string;
  hash: string;
  password: string;
  wrong: string;
}
const load = (name: string): Case[] =>
  (
    JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as {
      cases: Case[];
    }
  ).cases;
const CASES = [...load('legacy-hashes.json'), ...load('import-hashes.json')];
const HEADER = 'email,username,hashed_password,is_active,is_superuser,is_verified';
const quote = (v: string) => `"${v.replaceAll('"', '""')}"`;

function csvFile(dir: string): { path: string; bad: Array<[number, RegExp]> } {
  const lines = [HEADER];
  CASES.forEach((c, i) => {
    lines.push(
      [`imp${i}@example.com`, `imp_${i}`, quote(c.hash), 'true', 'false', 'true'].join(','),
    );
  });
  const first = CASES[0] as Case;
  const bad: Array<[string, RegExp]> = [
    [`not-an-email,bademail,${quote(first.hash)},true,false,false`, /invalid email/],
    [`badname@example.com,a b,${quote(first.hash)},true,false,false`, /invalid username/],
    [
      'plain@example.com,plain,correct horse battery staple,true,false,false',
      /unknown password hash format/,
    ],
    ['nohash@example.com,nohash,,true,false,false', /no password hash/],
    [
      `IMP0@EXAMPLE.COM,other0,${quote(first.hash)},true,false,false`,
      /duplicate email \(first at line 2\)/,
    ],
    [
      `other1@example.com,ＩＭＰ_1,${quote(first.hash)},true,false,false`,
      /duplicate username \(first at line 3\)/,
    ],
    [
      `flag@example.com,flag,${quote(first.hash)},maybe,false,false`,
      /is_active must be true or false/,
    ],
    [`short@example.com,short,${quote(first.hash)}`, /cells/],
    [`taken@example.com,existing_user,${quote(first.hash)},true,false,false`, /already exists/],
  ];
  const lineOf: Array<[number, RegExp]> = [];
  for (const [row, reason] of bad) {
    lines.push(row);
    lineOf.push([lines.length, reason]);
  }
  // A multi-line quoted field and a disabled superuser after the bad rows: still imported.
  lines.push(`boss@example.com,boss,${quote(first.hash)},true,true,true`);
  lines.push(`gone@example.com,gone,${quote(first.hash)},false,false,false`);
  const path = join(dir, 'users.csv');
  writeFileSync(path, `\uFEFF${lines.join('\r\n')}\r\n`);
  return { path, bad: lineOf };
}

for (const db of testDatabases()) {
  describe(`portcullis user import on ${db}`, () => {
    let dir: string;
    let databaseUrl: string;
    let drop = async () => {};
    let env: Record<string, string>;
    let server: TestServer;
    let csv: { path: string; bad: Array<[number, RegExp]> };
    let ran: Ran;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'portcullis-import-'));
      databaseUrl = `sqlite:${join(dir, 'portcullis.db')}`;
      if (db === 'postgres') {
        const pg = await createTempPgDatabase();
        databaseUrl = pg.url;
        drop = pg.drop;
      }
      env = testEnv(dir, databaseUrl);
      server = await startServer({ db, reuse: { dataDir: dir, databaseUrl } });
      await register(server.app.services, {
        email: 'existing@example.com',
        username: 'existing_user',
        password: 'an existing user password',
      });
      csv = csvFile(dir);
      ran = await cli(['user', 'import', csv.path], env);
    });
    after(async () => {
      await server?.close();
      await drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('reports each rejected row with its line and reason, and exits 1', () => {
      assert.equal(ran.code, 1, ran.stderr);
      for (const [line, reason] of csv.bad) {
        const reported = ran.stderr
          .split('\n')
          .find((l) => l.startsWith(`line ${line}: rejected: `));
        assert.ok(reported, `line ${line} reported:\n${ran.stderr}`);
        assert.match(reported, reason);
      }
      assert.equal(ran.stderr.match(/rejected:/g)?.length, csv.bad.length, ran.stderr);
      assert.match(ran.stderr, /import: \d+\/\d+ rows read, \d+ imported/);
      const total = CASES.length + csv.bad.length + 2;
      assert.match(
        ran.stdout,
        new RegExp(`Imported ${CASES.length + 2} of ${total} users from users.csv`),
      );
      assert.match(ran.stdout, new RegExp(`${csv.bad.length} rejected`));
    });

    for (const [i, c] of CASES.entries()) {
      it(`${c.label}: logs in with the old password over HTTP and is upgraded to argon2id`, async () => {
        const api = client(server.url);
        const store = server.app.services.store;
        const before = await store.users.findByUsernameNorm(`imp_${i}`);
        assert.equal(before?.passwordHash, c.hash, 'stored as exported');
        assert.equal(before?.isVerified, true);
        const wrong = await api.post(
          '/token',
          { username: `imp_${i}`, password: c.wrong },
          { form: true },
        );
        assert.equal(wrong.status, 400);
        const tokens = await login(api, `imp${i}@example.com`, c.password);
        assert.equal((await api.get('/users/me', { token: tokens.access_token })).status, 200);
        const after = await store.users.findByUsernameNorm(`imp_${i}`);
        assert.match(after?.passwordHash ?? '', /^\$argon2id\$v=19\$/);
        await login(api, `imp_${i}`, c.password);
      });
    }

    it('flags are kept: a superuser gets the admin scope, an inactive user cannot log in', async () => {
      const api = client(server.url);
      const first = CASES[0] as Case;
      const boss = await login(api, 'boss', first.password);
      assert.match(boss.scope, /\badmin\b/);
      const gone = await api.post(
        '/token',
        { username: 'gone', password: first.password },
        { form: true },
      );
      assert.equal(gone.status, 400);
      const existing = await server.app.services.store.users.findByUsernameNorm('existing_user');
      assert.equal(existing?.email, 'existing@example.com', 'the existing user is untouched');
    });

    it('the import is in the audit log, one entry per batch, and names no hash', async () => {
      const entries = await server.app.services.store.audit.list({
        limit: 50,
        types: ['user.import'],
      });
      assert.equal(entries.length, 1);
      const details = JSON.parse(entries[0]?.details ?? '{}');
      assert.equal(details.source, 'users.csv');
      assert.equal(details.count, CASES.length + 2);
      assert.doesNotMatch(entries[0]?.details ?? '', /\$2[aby]\$|argon2|pbkdf2|scrypt/);
    });

    it('a fastapi-users JSON export (no usernames, more than one batch) is imported', async () => {
      const first = CASES[0] as Case;
      const users = Array.from({ length: 1500 }, (_, i) => ({
        id: `3fa85f64-5717-4562-b3fc-${String(i).padStart(12, '0')}`,
        email: `fau.${i}@example.org`,
        hashed_password: first.hash,
        is_active: true,
        is_superuser: false,
        is_verified: i % 2 === 0,
      }));
      users.push({ ...users[0], email: 'fau.0@EXAMPLE.org' } as (typeof users)[number]);
      const path = join(dir, 'fastapi-users.json');
      writeFileSync(path, JSON.stringify(users));
      const json = await cli(['user', 'import', path], env);
      assert.equal(json.code, 1, json.stderr);
      assert.match(json.stderr, /^item 1501: rejected: duplicate email \(first at item 1\)$/m);
      assert.match(json.stdout, /Imported 1500 of 1501 users/);
      const store = server.app.services.store;
      const derived = await store.users.findByEmailNorm('fau.7@example.org');
      assert.equal(derived?.username, 'fau.7');
      assert.equal(derived?.isVerified, false);
      await login(client(server.url), 'fau.7', first.password);
      assert.equal((await store.audit.list({ limit: 50, types: ['user.import'] })).length, 3);
    });

    // Reading files does not depend on the database: checked once, on SQLite.
    if (db === 'sqlite')
      it('a file without problems exits 0; a missing or unreadable file is an error', async () => {
        const first = CASES[0] as Case;
        const path = join(dir, 'clean.csv');
        writeFileSync(
          path,
          `email,username,password_hash\nclean@example.com,clean,${quote(first.hash)}\n`,
        );
        const ok = await cli(['user', 'import', path], env);
        assert.equal(ok.code, 0, ok.stderr);
        assert.match(ok.stdout, /Imported 1 of 1 users/);
        const missing = await cli(['user', 'import', join(dir, 'nope.csv')], env);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /nope\.csv/);
        writeFileSync(join(dir, 'broken.json'), '[{"email": ');
        const broken = await cli(['user', 'import', join(dir, 'broken.json')], env);
        assert.equal(broken.code, 1);
        assert.match(broken.stderr, /not valid JSON/);
        const usage = await cli(['user', 'import'], env);
        assert.equal(usage.code, 2);
      });
  });
}
