// A newcomer's path, as the README writes it: start the server with defaults in a fresh directory,
// run the README's quick-start block unchanged (but for the port), then make an admin with npx.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { wait } from '../support/fixtures.ts';
import { client, login } from '../support/http.ts';
import { ROOT, run, type ServerProcess, serveProcess } from '../support/process.ts';

function quickstartBlock(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const match = /<!-- quickstart[^>]*-->\s*```sh\n([\s\S]*?)```/.exec(readme);
  assert.ok(match?.[1], 'README has a quick-start block');
  return match[1];
}

describe('the README quick start', () => {
  let cwd: string;
  let server: ServerProcess;
  before(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'portcullis-newcomer-'));
    // Defaults only (DATA_DIR=./data of the working directory, production-strength hashing).
    server = await serveProcess({ PORT: '0' }, ['serve'], cwd);
  });
  after(async () => {
    await server?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('logs where everything is and how to create the first superuser', async () => {
    for (let i = 0; i < 50 && !/user create --superuser/.test(server.output()); i++)
      await wait(100);
    assert.match(server.output(), /portcullis\.db/);
    assert.match(server.output(), /secret\.key/);
    assert.match(server.output(), /outbox/);
    assert.match(server.output(), /user create --superuser/);
  });

  it('registers, logs in, reads /users/me, refreshes and logs out as written', async () => {
    const script = quickstartBlock().replaceAll('http://localhost:8000', server.url);
    const ran = await run('bash', ['-euo', 'pipefail', '-c', script], {}, undefined, cwd);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /"username":"alice"/);
    assert.equal(
      (ran.stdout.match(/"username":"alice"/g) ?? []).length,
      2,
      'register and /users/me',
    );
    assert.match(ran.stdout.trim(), /204$/);
  });

  it('npx portcullis user create --superuser makes an admin who can list users', async () => {
    const made = await run(
      'npx',
      [
        '--no-install',
        'portcullis',
        'user',
        'create',
        '--superuser',
        '--email',
        'admin@example.com',
        '--username',
        'admin',
      ],
      { DATA_DIR: join(cwd, 'data') },
      'an admin password of mine\n',
      ROOT,
    );
    assert.equal(made.code, 0, made.stderr);
    const api = client(server.url);
    const tokens = await login(api, 'admin', 'an admin password of mine');
    const users = await api.get<{ items: Array<{ username: string }> }>('/admin/users', {
      token: tokens.access_token,
    });
    assert.equal(users.status, 200);
    assert.deepEqual(users.body.items.map((u) => u.username).sort(), ['admin', 'alice']);
  });
});
