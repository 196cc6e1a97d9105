// `portcullis client …` as an operator uses it: real processes against a real server and database.
// create prints the client as the API's JSON (a confidential client's secret only then), list and
// show never print a secret, rotate-secret prints a new one, delete ends the client's sessions
// (another process's revocation reaches the server by its poll), and bad input exits non-zero.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { wait } from '../support/fixtures.ts';
import { client, newIdentity } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { type CliWorld, cli, cliWorld, type ServerProcess } from '../support/process.ts';

interface ClientJson {
  client_id: string;
  client_secret?: string;
  name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  scope: string;
  token_endpoint_auth_method: string;
  first_party: boolean;
}

for (const db of testDatabases()) {
  describe(`portcullis client on ${db}`, () => {
    let world: CliWorld;
    let env: Record<string, string>;
    let server: ServerProcess;
    const secrets: string[] = [];

    before(async () => {
      world = await cliWorld(db, 'portcullis-cli-clients-', { REVOCATION_POLL_MS: '200' });
      ({ env, server } = world);
    });
    after(() => world?.close());

    it('client create (public) prints the client as JSON, without a secret', async () => {
      const made = await cli(
        [
          'client',
          'create',
          '--name',
          'My SPA',
          '--redirect-uri',
          'https://spa.example/cb',
          '--redirect-uri',
          'http://127.0.0.1:9000/cb',
          '--post-logout-redirect-uri',
          'https://spa.example/bye',
          '--scope',
          'openid read',
          '--first-party',
        ],
        env,
      );
      assert.equal(made.code, 0, made.stderr);
      const body = JSON.parse(made.stdout) as ClientJson;
      assert.match(body.client_id, /^[A-Za-z0-9_-]{22,}$/);
      assert.equal(body.client_secret, undefined);
      assert.equal(body.name, 'My SPA');
      assert.deepEqual(body.redirect_uris, ['https://spa.example/cb', 'http://127.0.0.1:9000/cb']);
      assert.deepEqual(body.post_logout_redirect_uris, ['https://spa.example/bye']);
      assert.deepEqual(body.grant_types, ['authorization_code', 'refresh_token']);
      assert.equal(body.scope, 'openid read');
      assert.equal(body.token_endpoint_auth_method, 'none');
      assert.equal(body.first_party, true);
    });

    it('client create --confidential --grant prints the secret once; show and list never do; rotate-secret gives a new one', async () => {
      const made = await cli(
        [
          'client',
          'create',
          '--name',
          'Machine',
          '--redirect-uri',
          'https://m.example/cb',
          '--confidential',
          '--grant',
          'authorization_code,refresh_token,client_credentials',
        ],
        env,
      );
      assert.equal(made.code, 0, made.stderr);
      const body = JSON.parse(made.stdout) as ClientJson;
      assert.equal(body.token_endpoint_auth_method, 'client_secret_basic');
      assert.deepEqual(body.grant_types, [
        'authorization_code',
        'refresh_token',
        'client_credentials',
      ]);
      const secret = body.client_secret as string;
      assert.ok(secret.length >= 32, secret);
      secrets.push(secret);

      const shown = await cli(['client', 'show', body.client_id], env);
      assert.equal(shown.code, 0, shown.stderr);
      const { client_secret: _, ...view } = body;
      assert.deepEqual(JSON.parse(shown.stdout), {
        ...view,
        created_at: JSON.parse(shown.stdout).created_at,
      });
      assert.ok(!shown.stdout.includes(secret));

      const rotated = await cli(['client', 'rotate-secret', body.client_id], env);
      assert.equal(rotated.code, 0, rotated.stderr);
      const next = (JSON.parse(rotated.stdout) as { client_secret: string }).client_secret;
      assert.ok(next.length >= 32);
      assert.notEqual(next, secret);
      secrets.push(next);

      const list = await cli(['client', 'list'], env);
      assert.equal(list.code, 0, list.stderr);
      const items = JSON.parse(list.stdout) as ClientJson[];
      assert.ok(items.some((c) => c.client_id === body.client_id));
      for (const s of secrets) assert.ok(!list.stdout.includes(s), 'a secret in client list');
    });

    it('client delete ends the sessions of that client: its access token 401, its refresh 400', async () => {
      const made = await cli(
        // First-party: the password grant is for the operator's own apps only.
        [
          'client',
          'create',
          '--name',
          'Doomed',
          '--redirect-uri',
          'https://d.example/cb',
          '--first-party',
        ],
        env,
      );
      assert.equal(made.code, 0, made.stderr);
      const id = (JSON.parse(made.stdout) as ClientJson).client_id;
      const api = client(server.url);
      const who = newIdentity('cliclient');
      assert.equal((await api.post('/register', who)).status, 201);
      const tokens = await api.post<{ access_token: string; refresh_token: string }>(
        '/token',
        { grant_type: 'password', username: who.username, password: who.password, client_id: id },
        { form: true },
      );
      assert.equal(tokens.status, 200, tokens.text);
      assert.equal((await api.get('/users/me', { token: tokens.body.access_token })).status, 200);

      const deleted = await cli(['client', 'delete', id], env);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.match(deleted.stdout, /Deleted client/);
      await wait(1000); // another process wrote the revocation: the server's poll picks it up
      assert.equal((await api.get('/users/me', { token: tokens.body.access_token })).status, 401);
      const refreshed = await api.post(
        '/token',
        { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token },
        { form: true },
      );
      assert.equal(refreshed.status, 400, refreshed.text);
      assert.equal(refreshed.body.error, 'invalid_grant');

      const again = await cli(['client', 'show', id], env);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /Client not found/);
    });

    it('bad input exits non-zero with the reason: a fragment, a public client_credentials, a missing name, a public rotate-secret', async () => {
      const fragment = await cli(
        ['client', 'create', '--name', 'X', '--redirect-uri', 'https://x.example/cb#frag'],
        env,
      );
      assert.equal(fragment.code, 1);
      assert.match(fragment.stderr, /redirect_uris\.0: a redirect URI must not have a fragment/);
      const publicCc = await cli(
        ['client', 'create', '--name', 'X', '--grant', 'client_credentials'],
        env,
      );
      assert.equal(publicCc.code, 1);
      assert.match(publicCc.stderr, /grant_types: client_credentials needs a confidential client/);
      const noName = await cli(['client', 'create', '--redirect-uri', 'https://x.example/cb'], env);
      assert.equal(noName.code, 1);
      assert.match(noName.stderr, /needs --name/);
      const pub = await cli(
        ['client', 'create', '--name', 'P', '--redirect-uri', 'https://p.example/cb'],
        env,
      );
      const pubId = (JSON.parse(pub.stdout) as ClientJson).client_id;
      const rotate = await cli(['client', 'rotate-secret', pubId], env);
      assert.equal(rotate.code, 1);
      assert.match(rotate.stderr, /public client/);
      const unknown = await cli(['client', 'frobnicate'], env);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /usage: portcullis client create/);
    });
  });
}
