// Black-box regression tests of issue 10 item 7: an email change kept is_verified when the folded
// forms of the old and new address agreed, but the fold maps 'ı'→'i', 'ß'→'ss' and 'ς'→'σ', so a
// verified `bill@mıcrosoft.com` changed to `bill@microsoft.com` (another mailbox) stayed verified.
// Now any change of the stored address text makes it unverified again, a change of case included
// (mail systems may treat the local part's case as significant); uniqueness still uses the fold.
// On SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { domainToASCII } from 'node:url';
import { type Client, client, login, newIdentity } from '../support/http.ts';
import { linkToken, outboxMail } from '../support/mail.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';

type Me = { email: string; is_verified: boolean };

for (const db of testDatabases()) {
  describe(`a verified address changed to another text on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    before(async () => {
      server = await startServer({ db });
      api = client(server.url);
    });
    after(() => server.close());

    /** Registers `email`, proves it through the mailed link, and returns an access token. */
    async function verifiedUser(email: string): Promise<string> {
      const who = { ...newIdentity('verified'), email };
      const created = await api.post('/register', who);
      assert.equal(created.status, 201, created.text);
      const token = (await login(api, who.username, who.password)).access_token;
      assert.equal((await api.post('/verify/request', undefined, { token })).status, 202);
      // The mail goes to the IDNA (punycode) form of the domain.
      const [local, domain = ''] = email.split('@');
      const to = `${local}@${domainToASCII(domain)}`;
      const mail = await outboxMail(server.dataDir, to, 1, /Confirm your email/);
      const proof = linkToken(mail, server.config.publicUrl, 'verify');
      assert.equal((await api.post('/verify', { token: proof })).status, 204);
      const me = await api.get<Me>('/users/me', { token });
      assert.deepEqual([me.body.email, me.body.is_verified], [email, true]);
      return token;
    }

    async function changeTo(token: string, email: string): Promise<Me> {
      const changed = await api.patch<Me>('/users/me', { email }, { token });
      assert.equal(changed.status, 200, changed.text);
      assert.equal(changed.body.email, email);
      const me = await api.get<Me>('/users/me', { token });
      assert.equal(me.body.email, email);
      assert.equal(me.body.is_verified, changed.body.is_verified, 'the answer is what is stored');
      return changed.body;
    }

    const tag = () => Math.random().toString(36).slice(2, 8);

    for (const [from, to] of [
      ['mıcrosoft', 'microsoft'],
      ['straße', 'strasse'],
      ['ς-mail', 'σ-mail'],
    ] as const) {
      it(`verification of bill@${from}… carried over to bill@${to}… (folded forms agree): unverified again`, async () => {
        const t = tag();
        const token = await verifiedUser(`bill${t}@${from}${t}.com`);
        const after = await changeTo(token, `bill${t}@${to}${t}.com`);
        assert.equal(after.is_verified, false);
      });
    }

    it('a change of case only is a change of the stored text: unverified again', async () => {
      const t = tag();
      const token = await verifiedUser(`Bill${t}@example.com`);
      const after = await changeTo(token, `bill${t}@example.com`);
      assert.equal(after.is_verified, false);
    });

    it('the same text again (with a username change) keeps the address verified', async () => {
      const t = tag();
      const email = `same${t}@example.com`;
      const token = await verifiedUser(email);
      const changed = await api.patch<Me & { username: string }>(
        '/users/me',
        { email, username: `renamed${t}` },
        { token },
      );
      assert.equal(changed.status, 200, changed.text);
      assert.deepEqual([changed.body.username, changed.body.is_verified], [`renamed${t}`, true]);
    });

    it('uniqueness still uses the fold: bill@microsoft… is taken while bill@mıcrosoft… exists', async () => {
      const t = tag();
      await verifiedUser(`bill${t}@mıcrosoft${t}.com`);
      const other = { ...newIdentity('twin'), email: `bill${t}@microsoft${t}.com` };
      const taken = await api.post<{ code: string }>('/register', other);
      assert.equal(taken.status, 409, taken.text);
      assert.equal(taken.body.code, 'user_exists');
    });
  });
}
