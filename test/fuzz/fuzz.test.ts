// Property-based fuzzing of every endpoint (fast-check): generated methods, paths, queries, content
// types, bodies, Authorization/Cookie/X-Forwarded-For/X-CSRF-Token headers and real, broken and
// forged tokens. Properties: never a 5xx; a refusal is a JSON error; a refused request leaves the
// store as it was (every table but the audit log, which may only gain failed-login and lockout
// entries); and the server still answers afterwards. Bounded: PORTCULLIS_FUZZ_SECONDS per database
// (default 12), shared by the routes; a failure prints fast-check's seed and shrunk counterexample.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { type Database, openDatabase } from '../../src/store/database.ts';
import { type Client, client } from '../support/http.ts';
import { testDatabases } from '../support/postgres.ts';
import { startServer, type TestServer } from '../support/server.ts';
import { type FuzzRequest, requestFor } from './generators.ts';
import { auditTypesAfter, newWorld, resolve, routesOf, snapshot, type World } from './world.ts';

const SECONDS = Number(process.env.PORTCULLIS_FUZZ_SECONDS ?? 12);
// Refused logins are recorded, and lockouts may be: nothing else may be written by a refusal.
const AUDIT_ON_REFUSAL = new Set(['login.failure', 'lockout']);
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

interface Answer {
  status: number;
  type: string;
  text: string;
}

function send(baseUrl: string, req: FuzzRequest): Promise<Answer> {
  const payload =
    req.body === undefined
      ? undefined
      : typeof req.body === 'string'
        ? Buffer.from(req.body, 'utf8')
        : Buffer.from(req.body);
  const headers: Record<string, string> = { ...req.headers };
  if (payload !== undefined) headers['content-length'] = String(payload.length);
  return new Promise((resolveAnswer, reject) => {
    const request = http.request(
      new URL(baseUrl),
      { method: req.method, path: req.path, headers },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolveAnswer({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(parts).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

function resolved(req: FuzzRequest, world: World): FuzzRequest {
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([k, v]) => [k, resolve(v, world)]),
  );
  const body = typeof req.body === 'string' ? resolve(req.body, world) : req.body;
  // Path values were percent-encoded with the placeholder inside; tokens and ids are URL-safe.
  return { method: req.method, path: resolve(req.path, world), headers, body };
}

for (const db of testDatabases()) {
  describe(`fuzzing every endpoint on ${db}`, () => {
    let server: TestServer;
    let api: Client;
    let raw: Database;

    before(async () => {
      // X-Forwarded-For is believed from loopback, so that the fuzzed values reach the address logic.
      server = await startServer({ db, env: { TRUST_PROXY: '127.0.0.1' } });
      api = client(server.url);
      raw = await openDatabase(server.databaseUrl);
    });
    after(async () => {
      await raw.close();
      await server.close();
    });

    it('never a 5xx, refusals change nothing, the server survives', async (t) => {
      const routes = routesOf(server.app.swagger());
      assert.ok(routes.length >= 25, `${routes.length} routes found`);
      let world = await newWorld(server, api);
      let baseline = await snapshot(raw);
      const perRoute = (SECONDS * 1000) / routes.length;
      let total = 0;
      let refused = 0;
      for (const route of routes) {
        const property = fc.asyncProperty(requestFor(route), async (generated) => {
          const req = resolved(generated, world);
          const answer = await send(server.url, req);
          total += 1;
          const where = `${req.method} ${req.path} → ${answer.status} ${answer.type} ${answer.text.slice(0, 200)}`;
          assert.ok(answer.status < 500, `a 5xx: ${where}`);
          if (answer.status >= 400) {
            refused += 1;
            if (req.method !== 'HEAD' && /^text\/html/.test(answer.type)) {
              // The provider's browser endpoints (/authorize, /logout) answer people: an HTML page
              // with a title that says what went wrong.
              assert.match(answer.text, /<h1[^>]*>[^<]+</, `an HTML error page: ${where}`);
            } else if (req.method !== 'HEAD') {
              const body = JSON.parse(answer.text) as Record<string, unknown>;
              assert.ok(
                typeof body.code === 'string' || typeof body.error === 'string',
                `a JSON error: ${where}`,
              );
            }
            const now = await snapshot(raw);
            if (now.state !== baseline.state) {
              const before = new Set(baseline.state.split('\n'));
              const changed = now.state.split('\n').filter((l) => !before.has(l));
              assert.fail(`a refused request changed the store: ${where}\n${changed.join('\n')}`);
            }
            const written = await auditTypesAfter(raw, baseline.auditSeq);
            assert.ok(
              written.every((x) => AUDIT_ON_REFUSAL.has(x)),
              `refusal audited as ${written}: ${where}`,
            );
            baseline = now;
            return;
          }
          // An accepted change may spend the world's tokens or delete its users: start a new one.
          if (MUTATING.has(req.method)) world = await newWorld(server, api);
          baseline = await snapshot(raw);
        });
        // Short checks until the route's share of the time is spent. (fast-check's time-limit plugin
        // would abandon a run mid-request and let it race the next one.)
        const deadline = performance.now() + perRoute;
        do {
          const details = await fc.check(property, { numRuns: 10, includeErrorInReport: true });
          if (details.failed) {
            assert.fail(`${route.method} ${route.path}\n${fc.defaultReportMessage(details)}`);
          }
        } while (performance.now() < deadline);
      }
      t.diagnostic(`${total} requests to ${routes.length} routes, ${refused} refused`);
      assert.ok(total >= routes.length * 5, `only ${total} requests ran`);
      for (const path of ['/healthz', '/readyz']) assert.equal((await api.get(path)).status, 200);
    });
  });
}
