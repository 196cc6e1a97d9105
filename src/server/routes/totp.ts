// Routes of TOTP two-factor authentication for the signed-in user (SPEC §4).
// HTTP only: parse, call the rules, shape the answer.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  confirmTotp,
  disableTotp,
  startTotpEnrolment,
  totpStatus,
} from '../../auth/second-factor/index.ts';
import type { Services } from '../../auth/services.ts';
import { callerOf, type Guards } from '../authenticate.ts';
import { errorResponses, object, str } from '../schemas.ts';
import { loadActiveUser } from './account-mail.ts';

const security = [{ oauth2: [] }];
const tags = ['two-factor'];

export async function totpRoutes(
  app: FastifyInstance,
  opts: { services: Services; guards: Guards },
): Promise<void> {
  const s = opts.services;
  const preHandler = opts.guards.user;

  app.get(
    '/users/me/totp',
    {
      preHandler,
      config: { rateLimit: 'totp' },
      schema: {
        tags,
        summary: 'Whether two-factor authentication is on, and recovery codes left',
        security,
        response: {
          200: object(['enabled', 'pending', 'recovery_codes_left'], {
            enabled: { type: 'boolean' },
            pending: { type: 'boolean' },
            recovery_codes_left: { type: 'integer' },
          }),
          ...errorResponses([401]),
        },
      },
    },
    async (request: FastifyRequest) => totpStatus(s, (await loadActiveUser(s, request)).id),
  );

  app.post(
    '/users/me/totp',
    {
      preHandler,
      config: { rateLimit: 'totp' },
      schema: {
        tags,
        summary: 'Start enrolment: a new secret, its otpauth:// URI and a QR code (SVG)',
        security,
        response: {
          200: object(['secret', 'otpauth_uri', 'qr_svg'], {
            secret: { type: 'string', description: 'base32, for typing into the app' },
            otpauth_uri: { type: 'string' },
            qr_svg: { type: 'string', description: 'the URI as a QR code, an SVG document' },
          }),
          ...errorResponses([401, 409]),
        },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const enrolment = await startTotpEnrolment(s, await loadActiveUser(s, request));
      // The secret must not linger in any cache.
      return reply.header('cache-control', 'no-store').send(enrolment);
    },
  );

  app.post<{ Body: { code: string } }>(
    '/users/me/totp/confirm',
    {
      preHandler,
      config: { rateLimit: 'totp' },
      schema: {
        tags,
        summary: 'Confirm enrolment with a code; returns 10 single-use recovery codes, once',
        security,
        body: object(['code'], { code: str(64) }),
        response: {
          200: object(['recovery_codes'], {
            recovery_codes: { type: 'array', items: { type: 'string' } },
          }),
          ...errorResponses([400, 401, 409, 422]),
        },
      },
    },
    async (request, reply) => {
      const user = await loadActiveUser(s, request);
      const codes = await confirmTotp(s, user, request.body.code, callerOf(request).sessionId);
      return reply.header('cache-control', 'no-store').send({ recovery_codes: codes });
    },
  );

  app.delete<{ Body: { password?: string; code?: string } }>(
    '/users/me/totp',
    {
      preHandler,
      config: { rateLimit: 'totp' },
      schema: {
        tags,
        summary: 'Turn two-factor authentication off, with the password or a code',
        security,
        body: {
          ...object([], { password: str(4096), code: str(64) }),
          minProperties: 1,
        },
        response: {
          204: { type: 'null', description: 'Done.' },
          ...errorResponses([400, 401, 409, 422]),
        },
      },
    },
    async (request, reply) => {
      const user = await loadActiveUser(s, request);
      const agent = request.headers['user-agent'];
      await disableTotp(s, user, request.body, callerOf(request).sessionId, {
        ip: request.ip,
        userAgent: agent ? agent.slice(0, 512) : null,
      });
      return reply.code(204).send();
    },
  );
}
