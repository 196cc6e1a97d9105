// Black-box: the account lockout of SPEC §5 on SQLite (memory kv) and on PostgreSQL + Redis.
// Growing delays answered 429 with Retry-After, the right password refused while one runs, reset on
// success, never permanent, the same for unknown accounts, one account whatever the case or Unicode
// form, and parallel guesses checked one at a time. The server's clock is frozen: time moves only
// when a test advances it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type Answer,
  type Client,
  client,
  newIdentity,
  registerAndLogin,
} from '../support/http.ts';
import { testBackends } from '../support/redis.ts';
import { startServer, type TestServer } from '../support/server.ts';

const THRESHOLD = 3;
const BASE = 10;
const MAX = 40;

const fullWidth = (text: string): string =>
  Array.from(text, (ch) => String.fromCodePoint((ch.codePointAt(0) ?? 0) + 0xfee0)).join('');

for (const backend of testBackends()) {
  describe(`lockout on ${backend.name}`, () => {
    let server: TestServer;
    let api: Client;
    const token = (username: string, password: string) =>
      api.post('/token', { grant_type: 'password', username, password }, { form: true });
    const retryAfter = (answer: Answer): number => Number(answer.headers.get('retry-after'));
    const fail = async (username: string, times = 1): Promise<void> => {
      for (let i = 0; i < times; i++) {
        const answer = await token(username, 'wrong password entirely');
        assert.equal(answer.status, 400, answer.text);
        assert.equal(answer.body.error, 'invalid_grant');
      }
    };

    before(async () => {
      server = await startServer({
        db: backend.db,
        env: {
          ...backend.env(),
          LOCKOUT_THRESHOLD: String(THRESHOLD),
          LOCKOUT_BASE_SECONDS: String(BASE),
          LOCKOUT_MAX_SECONDS: String(MAX),
        },
      });
      api = client(server.url);
    });
    after(() => server.close());

    it('answers 429 too_many_attempts on /token once the threshold is reached, as OAuth JSON', async () => {
      const user = await registerAndLogin(api);
      await fail(user.username, THRESHOLD);
      const locked = await token(user.username, 'wrong password entirely');
      assert.equal(locked.status, 429);
      assert.match(locked.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(locked.headers.get('cache-control'), 'no-store');
      assert.equal(locked.body.error, 'too_many_attempts');
      assert.equal(typeof locked.body.error_description, 'string');
      assert.equal(retryAfter(locked), BASE);
      server.clock.advance(4_000);
      assert.equal(
        retryAfter(await token(user.username, 'x')),
        BASE - 4,
        'Retry-After counts down',
      );
    });

    it('doubles the delay with each further failure, up to LOCKOUT_MAX_SECONDS', async () => {
      const user = await registerAndLogin(api);
      await fail(user.username, THRESHOLD);
      const seen: number[] = [];
      for (let i = 0; i < 4; i++) {
        const locked = await token(user.username, 'wrong password entirely');
        assert.equal(locked.status, 429);
        seen.push(retryAfter(locked));
        server.clock.advance(retryAfter(locked) * 1000);
        await fail(user.username);
      }
      assert.deepEqual(seen, [BASE, BASE * 2, BASE * 4, MAX]);
      assert.equal(retryAfter(await token(user.username, 'x')), MAX, 'capped');
    });

    it('refuses the right password while the delay runs, accepts it after, and a success resets the count', async () => {
      const user = await registerAndLogin(api);
      await fail(user.username, THRESHOLD);
      const refused = await token(user.username, user.password);
      assert.equal(refused.status, 429, 'the right password is refused during the delay');
      assert.equal(refused.body.access_token, undefined);
      server.clock.advance(BASE * 1000);
      const accepted = await token(user.username, user.password);
      assert.equal(accepted.status, 200, accepted.text);
      // Reset: the count starts again from zero, so THRESHOLD − 1 failures leave the account open.
      await fail(user.username, THRESHOLD - 1);
      assert.equal((await token(user.username, user.password)).status, 200);
      await fail(user.username, THRESHOLD);
      assert.equal((await token(user.username, user.password)).status, 429);
    });

    it('is never permanent: after 30 failures the owner still gets in once the delay ends', async () => {
      const user = await registerAndLogin(api);
      let failures = 0;
      while (failures < 30) {
        const answer = await token(user.username, 'wrong password entirely');
        if (answer.status === 429) {
          assert.ok(retryAfter(answer) <= MAX, `Retry-After ${retryAfter(answer)} exceeds the cap`);
          server.clock.advance(retryAfter(answer) * 1000);
        } else {
          assert.equal(answer.status, 400);
          failures += 1;
        }
      }
      const locked = await token(user.username, user.password);
      assert.equal(locked.status, 429);
      assert.equal(retryAfter(locked), MAX);
      server.clock.advance(MAX * 1000);
      assert.equal((await token(user.username, user.password)).status, 200);
    });

    it('slows an unknown account exactly like a real one: same statuses, bodies and Retry-After', async () => {
      const real = await registerAndLogin(api);
      const ghost = newIdentity('ghost').username;
      const trace = async (username: string): Promise<string[]> => {
        const steps: string[] = [];
        for (let i = 0; i < THRESHOLD + 2; i++) {
          const answer = await token(username, 'wrong password entirely');
          steps.push(`${answer.status} ${answer.headers.get('retry-after')} ${answer.text}`);
        }
        return steps;
      };
      const realTrace = await trace(real.username);
      const ghostTrace = await trace(ghost);
      assert.deepEqual(ghostTrace, realTrace);
      assert.match(ghostTrace.at(-1) ?? '', /^429 10 /);
    });

    it('counts every case and Unicode form of a name as one account', async () => {
      const user = await registerAndLogin(api);
      await fail(user.username.toUpperCase());
      await fail(fullWidth(user.username));
      await fail(` ${user.username[0]?.toUpperCase()}${user.username.slice(1)}`);
      const locked = await token(user.username, user.password);
      assert.equal(locked.status, 429);
      // Another account is untouched.
      const other = await registerAndLogin(api);
      assert.equal((await token(other.username, other.password)).status, 200);
    });

    it('checks a burst of parallel guesses one at a time: at most THRESHOLD are ever tried', async () => {
      const user = await registerAndLogin(api);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => token(user.username, 'wrong password entirely')),
      );
      const tried = answers.filter((a) => a.status === 400).length;
      const refused = answers.filter((a) => a.status === 429);
      assert.ok(tried >= 1 && tried <= THRESHOLD, `${tried} guesses were checked`);
      assert.equal(tried + refused.length, 20);
      for (const answer of refused) {
        assert.equal(answer.body.error, 'too_many_attempts');
        assert.ok(retryAfter(answer) >= 1);
      }
    });

    it('counts wrong current passwords on the account API too, answered as problem details', async () => {
      const user = await registerAndLogin(api);
      const auth = { token: user.tokens.access_token };
      for (let i = 0; i < THRESHOLD; i++) {
        const wrong = await api.del('/users/me', { password: 'not my password' }, auth);
        assert.equal(wrong.status, 400);
        assert.equal(wrong.body.code, 'invalid_password');
      }
      const locked = await api.del('/users/me', { password: user.password }, auth);
      assert.equal(locked.status, 429);
      assert.match(locked.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(locked.body.code, 'too_many_attempts');
      assert.equal(locked.body.status, 429);
      assert.equal(retryAfter(locked), BASE);
      // A stolen token cannot be used to guess the password, nor to sidestep the login lockout.
      assert.equal((await token(user.username, user.password)).status, 429);
      assert.equal((await token(user.email, user.password)).status, 429);
      server.clock.advance(BASE * 1000);
      assert.equal((await api.get('/users/me', auth)).status, 200, 'the account was not deleted');
      assert.equal((await token(user.email, user.password)).status, 200);
    });
  });
}
