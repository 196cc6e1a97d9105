// Hostile bearer tokens against GET /users/me of one running server (ES256, the default): ONE table,
// every row must get 401 + `WWW-Authenticate: … error="invalid_token"` + problem+json, never 2xx or
// 5xx. Control rows get 200, so the suite can fail. Every row goes to the guard too (a Fastify service
// with fastifyGuard on the server's JWKS and clock), which must give the same verdict: the guard once
// kept rules of its own and let through tokens the server refused. The whole table runs on SQLite;
// the genuine token and some representative rows also run on PostgreSQL. Afterwards: no jku/x5u URL
// was fetched, the genuine token still works, and no user, session or token row was added or removed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { createVerifier, fastifyGuard } from '../../src/guard/index.ts';
import { type Answer, type Client, client } from '../support/http.ts';
import { MISSING_PG_MESSAGE, pgAdminUrl, testDatabases } from '../support/postgres.ts';
import {
  type Attack,
  type HostileContext,
  openContext,
  openShared,
  type Shared,
  type StoreCounts,
  storeCounts,
} from './hostile-context.ts';
import { claimAndFormatRows } from './rows-claims.ts';
import { signatureRows } from './rows-signature.ts';

const attacks: Attack[] = [...signatureRows, ...claimAndFormatRows];

// Controls: the genuine token, and a token the suite forges with the server's key and the genuine
// claims (so the forged rows fail only for the one thing each of them changes).
const controls: Attack[] = [
  { name: 'the genuine access token', build: (c) => c.genuine },
  { name: 'forged with the server key and the genuine claims', build: (c) => c.forge() },
  {
    // RFC 9068 §4: the media type's long form is the same typ.
    name: 'forged with typ "application/at+jwt"',
    build: (c) => c.forge({ typ: 'application/at+jwt' }),
  },
  {
    // The twin of the "expired" row: the moved clock reaches the verifier, only exp decides.
    name: 'forged fresh, server clock moved to 10 s before exp',
    build: (c) => {
      const now = c.nowSeconds();
      return c.forge({}, { iat: now, exp: now + c.server.config.accessTokenTtlSeconds });
    },
    advanceMs: (c) => (c.server.config.accessTokenTtlSeconds - 10) * 1000,
  },
];

/** The same request to the server and to the guard, with the (shared) clock moved as the row says. */
async function send(
  ctx: HostileContext,
  guard: Client,
  row: Attack,
): Promise<{ server: Answer; guard: Answer }> {
  const built = await row.build(ctx);
  const authorization = row.header ? built : `Bearer ${built}`;
  const saved = ctx.server.clock();
  if (row.advanceMs) ctx.server.clock.advance(row.advanceMs(ctx));
  try {
    return {
      server: await ctx.api.get('/users/me', { headers: { authorization } }),
      guard: await guard.get('/users/me', { headers: { authorization } }),
    };
  } finally {
    ctx.server.clock.set(saved);
  }
}

/** A service guarded by fastifyGuard, verifying through the server's JWKS on the server's clock. */
async function startGuarded(ctx: HostileContext): Promise<{ app: FastifyInstance; api: Client }> {
  const { config } = ctx.server;
  const verifier = createVerifier({
    issuer: config.issuer,
    audience: config.audience,
    jwksUri: `${ctx.server.url}/.well-known/jwks.json`,
    maxTokenAgeSeconds: config.accessTokenTtlSeconds,
    clock: ctx.server.clock,
  });
  const app = Fastify();
  await app.register(fastifyGuard, { verifier });
  app.get('/users/me', async (request) => ({ id: request.auth?.sub }));
  return { app, api: client(await app.listen({ host: '127.0.0.1', port: 0 })) };
}

function assertGuardRefused(answer: Answer, row: Attack): void {
  const said = `guard: ${answer.status} ${answer.text.slice(0, 300)}`;
  assert.equal(answer.status, row.status ?? 401, said);
  if (row.status !== undefined) return;
  assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/, said);
  assert.equal(answer.body.error, 'invalid_token', said);
}

function assertRefused(answer: Answer, row: Attack): void {
  const said = `${answer.status} ${answer.text.slice(0, 300)}`;
  assert.ok(answer.status < 200 || answer.status >= 300, `accepted: ${said}`);
  assert.ok(answer.status < 500, `server error: ${said}`);
  if (row.status !== undefined) {
    assert.equal(answer.status, row.status, said);
    return;
  }
  assert.equal(answer.status, 401, said);
  assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
  // One shape for every reason: no stack, no library message fields, the stable code.
  assert.deepEqual(Object.keys(answer.body).sort(), ['code', 'detail', 'status', 'title', 'type']);
  assert.equal(answer.body.status, 401);
  assert.equal(answer.body.code, 'invalid_token');
}

describe('hostile bearer tokens at GET /users/me and at the guard: one verdict (the guard had rules of its own)', () => {
  let shared: Shared;
  before(async () => {
    shared = await openShared();
  });
  after(() => shared?.close());

  for (const db of testDatabases()) {
    describe(`on ${db}`, () => {
      if (db === 'postgres' && pgAdminUrl() === undefined) {
        // Selected but not configured: fail loudly rather than pass without having run.
        test('PostgreSQL is configured', () => assert.fail(MISSING_PG_MESSAGE));
        return;
      }
      const rows = db === 'sqlite' ? attacks : attacks.filter((row) => row.postgres);
      let ctx: HostileContext;
      let guarded: { app: FastifyInstance; api: Client };
      let baseline: StoreCounts;
      before(async () => {
        ctx = await openContext(db, shared);
        guarded = await startGuarded(ctx);
        baseline = await storeCounts(ctx.server.databaseUrl);
        shared.listener.reset();
      });
      after(async () => {
        await guarded?.app.close();
        await ctx?.server.close();
      });

      for (const row of controls) {
        test(`control: ${row.name} → 200 at the server and at the guard`, async () => {
          const answers = await send(ctx, guarded.api, row);
          assert.equal(answers.server.status, 200, answers.server.text);
          assert.equal(answers.server.body.id, ctx.claims.sub);
          assert.equal(answers.guard.status, 200, `guard: ${answers.guard.text}`);
          assert.equal(answers.guard.body.id, ctx.claims.sub);
        });
      }

      for (const row of rows) {
        test(`${row.name} → ${row.status ?? 401} at the server and at the guard`, async () => {
          const answers = await send(ctx, guarded.api, row);
          assertRefused(answers.server, row);
          assertGuardRefused(answers.guard, row);
        });
      }

      test('no jku / x5u URL was fetched: the local server got zero requests', () => {
        assert.equal(shared.listener.hits(), 0);
      });

      test('after every row: the genuine token still gets 200, the store is unchanged', async () => {
        const answer = await ctx.api.get('/users/me', { token: ctx.genuine });
        assert.equal(answer.status, 200, answer.text);
        assert.equal((await ctx.api.get('/healthz')).status, 200);
        assert.deepEqual(await storeCounts(ctx.server.databaseUrl), baseline);
      });
    });
  }
});
