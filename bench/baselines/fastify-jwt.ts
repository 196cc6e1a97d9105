// Baseline: what a user writes by hand from the Fastify guides — @fastify/jwt verifying every
// request's bearer token (ES256 or HS256) in an onRequest hook and answering the claims.
// GET /mint?n=N hands out N tokens signed with this process's key (the generator's pool).
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import fastifyJwt from '@fastify/jwt';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

const algorithm = process.argv[2] === 'HS256' ? 'HS256' : 'ES256';
const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;

function keys(): string | Buffer | { private: string; public: string } {
  if (algorithm === 'HS256') return randomBytes(32);
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    private: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    public: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const app = Fastify();
await app.register(fastifyJwt, {
  secret: keys(),
  sign: { algorithm, expiresIn: '15m', iss: issuer, aud: issuer },
  verify: { algorithms: [algorithm], allowedIss: issuer, allowedAud: issuer },
});

async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  try {
    await request.jwtVerify();
  } catch (error) {
    reply.send(error);
  }
}

app.get('/healthz', async () => ({ status: 'ok' }));
app.get('/users/me', { onRequest: authenticate }, async (request) => request.user);
app.get('/mint', async (request: FastifyRequest<{ Querystring: { n?: string } }>) => {
  const n = Math.min(Number(request.query.n ?? '1'), 10_000);
  return Array.from({ length: n }, (_, i) =>
    app.jwt.sign({
      sub: `user-${i % 16}`,
      jti: randomUUID(),
      sid: randomUUID(),
      client_id: 'bench',
      scope: 'read write',
      preferred_username: `user${i % 16}`,
    }),
  );
});

await app.listen({ host: '127.0.0.1', port });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
