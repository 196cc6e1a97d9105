// The audit log over HTTP: every event the SPEC lists is recorded (and nothing secret in it), written
// in the same transaction as its change, and readable by superusers with filters and pages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type Database, openDatabase } from '../../src/store/database.ts';
import { type Account, superuser } from '../support/fixtures.ts';
import { type Client, client, login, registerAndLogin } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

interface Item {
  id: number;
  at: string;
  type: string;
  actor_id: string | null;
  subject_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
}
interface Page {
  items: Item[];
  next_cursor: string | null;
}

for (const db of testDatabases()) {
  describe(`audit log on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    let admin: Account;
    const secrets: string[] = [];

    before(async () => {
      server = await startServer({ db });
      api = client(server.url);
      admin = await superuser(server, api);
    });
    after(() => server.close());

    const audit = async (query: string): Promise<Item[]> => {
      const answer = await api.get<Page>(`/admin/audit?${query}`, {
        token: admin.tokens.access_token,
      });
      assert.equal(answer.status, 200, answer.text);
      return answer.body.items;
    };
    const keep = (...values: string[]) => secrets.push(...values);

    it('records registration, logins, failures, profile and password changes, session ends, deletion', async () => {
      const agent = { 'user-agent': 'audit-test/1.0' };
      const who = await registerAndLogin(api, 'aud');
      keep(who.password, who.tokens.access_token, who.tokens.refresh_token);
      const wrong = await api.post(
        '/token',
        { username: who.username, password: 'not the password at all' },
        { form: true, headers: agent },
      );
      assert.equal(wrong.status, 400);
      const unknown = await api.post(
        '/token',
        { username: 'nobody-here', password: 'hunter2 hunter2' },
        { form: true },
      );
      assert.equal(unknown.status, 400);
      const typo = await api.post(
        '/token',
        { username: 'my password is sesame!', password: 'x' },
        { form: true },
      );
      assert.equal(typo.status, 400);
      const me = who.tokens.access_token;
      assert.equal(
        (await api.patch('/users/me', { email: `new-${who.email}` }, { token: me })).status,
        200,
      );
      const second = await login(api, who.username, who.password);
      const newPassword = `${who.password} changed`;
      keep(newPassword, second.access_token, second.refresh_token);
      const changed = await api.post(
        '/users/me/password',
        { current_password: who.password, new_password: newPassword },
        { token: me },
      );
      assert.equal(changed.status, 204);
      assert.equal((await api.post('/logout', undefined, { token: me })).status, 204);

      const mine = await audit(`user=${who.id}&limit=200`);
      const types = mine.map((e) => e.type).reverse();
      assert.deepEqual(types, [
        'user.register',
        'login.success',
        'login.failure',
        'user.update',
        'login.success',
        'password.change',
        'session.end',
      ]);
      const [register, success, failure, update, , password, logout] = [...mine].reverse();
      assert.equal(register?.actor_id, who.id);
      assert.equal(register?.details.username, who.username);
      assert.equal(success?.actor_id, who.id);
      assert.equal(success?.ip, '127.0.0.1');
      assert.equal(typeof success?.details.session_id, 'string');
      assert.equal(failure?.actor_id, null);
      assert.equal(failure?.subject_id, who.id);
      assert.equal(failure?.user_agent, 'audit-test/1.0');
      assert.deepEqual(failure?.details, { login: who.username, reason: 'bad_password' });
      assert.deepEqual(update?.details.changes, {
        email: { from: who.email, to: `new-${who.email}` },
      });
      // The password change ended the other session, not the one that made the change.
      assert.deepEqual(password?.details.sessions_ended, [decodeSid(second.access_token)]);
      assert.equal(logout?.details.reason, 'logout');

      const failures = await audit('type=login.failure&limit=200');
      const byReason = (reason: string) => failures.filter((e) => e.details.reason === reason);
      assert.ok(byReason('unknown_user').some((e) => e.details.login === 'nobody-here'));
      // A name that cannot be a username or email may be a password typed in the wrong field.
      const malformed = byReason('unknown_user').find((e) => e.details.login_malformed === true);
      assert.ok(malformed);
      assert.equal(JSON.stringify(malformed).includes('sesame'), false);
    });

    it('records refresh reuse, admin changes and deletions with the acting administrator', async () => {
      const who = await registerAndLogin(api, 'aud2');
      keep(who.password, who.tokens.refresh_token);
      const first = await api.post('/refresh', { refresh_token: who.tokens.refresh_token });
      assert.equal(first.status, 200);
      server.clock.advance(60_000);
      const reuse = await api.post('/refresh', { refresh_token: who.tokens.refresh_token });
      assert.equal(reuse.status, 401);
      const token = admin.tokens.access_token;
      const patched = await api.patch(
        `/admin/users/${who.id}`,
        { is_active: false, scopes: ['read'] },
        { token },
      );
      assert.equal(patched.status, 200);
      const victim = await registerAndLogin(api, 'aud3');
      assert.equal((await api.del(`/admin/users/${victim.id}`, undefined, { token })).status, 204);
      const self = await registerAndLogin(api, 'aud4');
      keep(self.password);
      const gone = await api.del(
        '/users/me',
        { password: self.password },
        { token: self.tokens.access_token },
      );
      assert.equal(gone.status, 204);

      const [reused] = await audit(`type=refresh.reuse&subject=${who.id}`);
      assert.equal(reused?.subject_id, who.id);
      assert.equal((reused?.details.session_ids as unknown[] | undefined)?.length, 1);
      const [update] = await audit(`type=admin.user_update&subject=${who.id}`);
      assert.equal(update?.actor_id, admin.id);
      assert.deepEqual(update?.details.changes, {
        isActive: { from: true, to: false },
        scopes: { from: ['read', 'write'], to: ['read'] },
      });
      const [removed] = await audit(`type=admin.user_delete&subject=${victim.id}`);
      assert.equal(removed?.actor_id, admin.id);
      assert.equal(removed?.details.username, victim.username);
      const [own] = await audit(`type=user.delete&user=${self.id}`);
      assert.equal(own?.actor_id, self.id);
      assert.equal(
        (await audit(`actor=${admin.id}&type=admin.user_update,admin.user_delete`)).length,
        2,
      );
    });

    it('never holds a password, token or hash', async () => {
      const text = JSON.stringify(await audit('limit=200'));
      for (const secret of secrets)
        assert.equal(text.includes(secret), false, 'a secret in the audit log');
      assert.doesNotMatch(text, /\$argon2|\$2[aby]\$/);
    });

    it('pages with next_cursor through every entry, newest first, and filters by time', async () => {
      const all = await audit('limit=200');
      assert.ok(all.length > 10);
      const seen: number[] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const page: { status: number; body: Page } = await api.get<Page>(
          `/admin/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
          { token: admin.tokens.access_token },
        );
        assert.equal(page.status, 200);
        assert.ok(page.body.items.length <= 3);
        seen.push(...page.body.items.map((e) => e.id));
        cursor = page.body.next_cursor;
      }
      assert.deepEqual(
        seen,
        all.map((e) => e.id),
      );
      assert.deepEqual(
        [...seen].sort((a, b) => b - a),
        seen,
      );
      const middle = all[Math.floor(all.length / 2)];
      assert.ok(middle);
      const until = await audit(`until=${encodeURIComponent(middle.at)}&limit=200`);
      assert.ok(until.every((e) => e.at <= middle.at));
      assert.ok(until.some((e) => e.id === middle.id));
      const since = await audit(`since=${encodeURIComponent(middle.at)}&limit=200`);
      assert.ok(since.every((e) => e.at >= middle.at));
    });

    it('is for superusers only, and refuses bad filters with 422', async () => {
      const who = await registerAndLogin(api, 'aud5');
      assert.equal((await api.get('/admin/audit')).status, 401);
      assert.equal((await api.get('/admin/audit', { token: who.tokens.access_token })).status, 403);
      const token = admin.tokens.access_token;
      for (const query of [
        'cursor=nonsense',
        `cursor=${Buffer.from('a0').toString('base64url')}`,
        'since=yesterday',
        'until=2026-11-23',
        'since=2026-13-45T99:00:00Z',
        'type=DROP%20TABLE',
        'limit=0',
        'limit=201',
        'unknown=1',
      ]) {
        const answer = await api.get<{ code: string }>(`/admin/audit?${query}`, { token });
        // Unknown members are dropped (as on every route); everything else is refused.
        if (query === 'unknown=1') assert.equal(answer.status, 200);
        else assert.equal(answer.status, 422, `${query}: ${answer.text}`);
      }
    });

    describe('written in the same transaction as the change', () => {
      let raw: Database;
      before(async () => {
        raw = await openDatabase(server.databaseUrl);
      });
      after(() => raw.close());

      // Makes every audit insert fail, as a full disk or a broken table would.
      async function breakAudit(): Promise<void> {
        if (raw.dialect === 'postgres') {
          await sql`create function audit_refuse() returns trigger language plpgsql as $$ begin raise exception 'audit unavailable'; end $$`.execute(
            raw.kysely,
          );
          await sql`create trigger audit_refuse before insert on audit_log for each row execute function audit_refuse()`.execute(
            raw.kysely,
          );
        } else {
          await sql`create trigger audit_refuse before insert on audit_log begin select raise(abort, 'audit unavailable'); end`.execute(
            raw.kysely,
          );
        }
      }
      async function repairAudit(): Promise<void> {
        await sql`drop trigger audit_refuse${sql.raw(raw.dialect === 'postgres' ? ' on audit_log' : '')}`.execute(
          raw.kysely,
        );
        if (raw.dialect === 'postgres') await sql`drop function audit_refuse()`.execute(raw.kysely);
      }

      it('when the audit entry cannot be written, the change is rolled back', async () => {
        const who = await registerAndLogin(api, 'atx');
        const target = await registerAndLogin(api, 'atx2');
        const token = admin.tokens.access_token;
        const store = server.app.services.store;
        const sessionsBefore = await store.sessions.listActive(who.id, server.clock());
        await breakAudit();
        try {
          // One at a time: the lockout allows one password check per account at once.
          const attempts = [
            () =>
              api.post('/register', {
                email: 'rolled-back@example.com',
                username: 'rolledback',
                password: 'a fine long password',
              }),
            () =>
              api.patch(
                '/users/me',
                { username: 'renamed-atx' },
                { token: who.tokens.access_token },
              ),
            () =>
              api.post(
                '/users/me/password',
                { current_password: who.password, new_password: `${who.password}!!` },
                { token: who.tokens.access_token },
              ),
            () => api.post('/logout', undefined, { token: who.tokens.access_token }),
            () => api.patch(`/admin/users/${target.id}`, { is_superuser: true }, { token }),
            () => api.del(`/admin/users/${target.id}`, undefined, { token }),
            () =>
              api.post(
                '/token',
                { username: who.username, password: who.password },
                { form: true },
              ),
          ];
          for (const attempt of attempts) {
            const answer = await attempt();
            assert.equal(answer.status, 500, answer.text);
          }
        } finally {
          await repairAudit();
        }
        assert.equal(await store.users.findByUsernameNorm('rolledback'), undefined);
        const after = await store.users.findById(who.id);
        assert.equal(after?.username, who.username);
        const targetAfter = await store.users.findById(target.id);
        assert.equal(targetAfter?.isSuperuser, false);
        // The old password still works, the sessions still stand, no session was added.
        assert.deepEqual(await store.sessions.listActive(who.id, server.clock()), sessionsBefore);
        assert.equal((await api.get('/users/me', { token: who.tokens.access_token })).status, 200);
        await login(api, who.username, who.password);
      });
    });
  });
}

function decodeSid(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  return payload.sid as string;
}
