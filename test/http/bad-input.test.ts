// Black-box: bad input of every kind to every endpoint that takes input, on each database. Every
// case must get a 4xx of the right family and shape (SPEC §4) and leave the store as it was; a valid
// control request per endpoint proves the table can fail (2xx, and a change the snapshot sees).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Client, client } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { bodyCases, malformedCases } from './bad-input/body-cases.ts';
import {
  type Account,
  type Ctx,
  changes,
  makeAdmin,
  newContext,
  snapshot,
} from './bad-input/context.ts';
import { baseReq, type Case, type Endpoint } from './bad-input/endpoints.ts';
import { assertAnswer } from './bad-input/expect.ts';
import { formCases } from './bad-input/form-cases.ts';
import { sizeCases } from './bad-input/hostile-cases.ts';
import { authCases, contentTypeCases, pathCases, queryCases } from './bad-input/other-cases.ts';
import { type Req, send } from './bad-input/send.ts';
import { ENDPOINTS } from './bad-input/table.ts';

const PROTOTYPE = Object.getOwnPropertyNames(Object.prototype).sort();

/** The server runs in this process: a polluted Object.prototype would show here. */
function assertNoPollution(): void {
  assert.deepEqual(
    Object.getOwnPropertyNames(Object.prototype).sort(),
    PROTOTYPE,
    'Object.prototype was polluted',
  );
  const probe: Record<string, unknown> = {};
  for (const key of ['is_superuser', 'isSuperuser', 'scopes', 'x'])
    assert.equal(probe[key], undefined, `{}.${key} is inherited`);
}

/** Every case for one endpoint. Cases that a broken server would most likely act on come last. */
function casesFor(ep: Endpoint): Case[] {
  const cases: Case[] = [];
  if (ep.auth !== 'none') cases.push(...authCases(ep));
  if (ep.param) cases.push(...pathCases(ep, ep.param));
  if (ep.query) cases.push(...queryCases(ep));
  if (ep.bodyless) cases.push(...malformedCases(ep, ep.family), ...sizeCases(ep, ep.family));
  if (ep.body) cases.push(...bodyCases(ep, ep.body), ...sizeCases(ep, ep.family));
  if (ep.body && ep.family === 'oauth') cases.push(...formCases(ep, ep.body));
  if (ep.body || ep.bodyless) cases.push(...contentTypeCases(ep, ep.family, ep.body));
  return cases;
}

/** The valid request as a standard client sends it (OAuth endpoints: form-encoded). */
function controlReq(ep: Endpoint, ctx: Ctx): Req {
  const req = baseReq(ep, ctx);
  if (ep.control.query) req.path = `${req.path}?${ep.control.query}`;
  if (ep.family === 'oauth' && ep.body) {
    req.contentType = 'application/x-www-form-urlencoded';
    req.body = new URLSearchParams(ep.body.valid(ctx) as Record<string, string>).toString();
  }
  return req;
}

for (const db of testDatabases()) {
  describe(`bad input on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    let admin: Account;
    before(async () => {
      server = await startServer({ db });
      api = client(server.url);
      admin = await makeAdmin(server, api);
    });
    after(() => server.close());

    for (const ep of ENDPOINTS) {
      describe(ep.name, () => {
        let ctx: Ctx | undefined;

        it(`control: a valid request gets ${ep.control.status}${ep.control.changes ? ' and the snapshot sees its change' : ''}`, async () => {
          const fresh = await newContext(api, admin);
          // A write must stamp a time the snapshot can tell from the creation time.
          server.clock.advance(1000);
          const before = await snapshot(server, fresh);
          const answer = await send(api, server.url, controlReq(ep, fresh));
          assert.equal(answer.status, ep.control.status, answer.text);
          const changed = changes(before, await snapshot(server, fresh));
          if (ep.control.changes)
            assert.ok(changed.length > 0, 'the snapshot must see the control’s change');
          else assert.deepEqual(changed, []);
        });

        for (const c of casesFor(ep)) {
          it(c.name, async () => {
            ctx ??= await newContext(api, admin);
            const current = ctx;
            // If this case fails, it may have changed its accounts: the next case starts from fresh ones.
            ctx = undefined;
            const before = await snapshot(server, current);
            const answer = await send(api, server.url, c.build(current));
            assertAnswer(answer, ep.family, c.expect);
            assert.deepEqual(
              changes(before, await snapshot(server, current)),
              [],
              'the store must not change',
            );
            assertNoPollution();
            ctx = current;
          });
        }
      });
    }
  });
}
