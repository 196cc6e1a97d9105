// TOTP two-factor authentication for the signed-in user.
// HTTP only: parse, call the rules, shape the answer.
import { activeUser } from '../../auth/accounts/index.ts';
import {
  confirmTotp,
  disableTotp,
  startTotpEnrolment,
  totpStatus,
} from '../../auth/second-factor/index.ts';
import { callerOf } from '../authenticate.ts';
import { route } from '../route.ts';
import { errorResponses, object, str } from '../schemas.ts';

const security = [{ oauth2: [] }];
const tags = ['two-factor'];

export const status = route({
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
  handler: (s) => async (request) =>
    totpStatus(s, (await activeUser(s, callerOf(request).userId)).id),
});

export const enrol = route({
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
  handler: (s) => async (request, reply) => {
    const enrolment = await startTotpEnrolment(s, await activeUser(s, callerOf(request).userId));
    // The secret must not linger in any cache.
    return reply.header('cache-control', 'no-store').send(enrolment);
  },
});

export const confirm = route<{ Body: { code: string } }>({
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
  handler: (s) => async (request, reply) => {
    const user = await activeUser(s, callerOf(request).userId);
    const codes = await confirmTotp(s, user, request.body.code, callerOf(request).sessionId);
    return reply.header('cache-control', 'no-store').send({ recovery_codes: codes });
  },
});

export const disable = route<{ Body: { password?: string; code?: string } }>({
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
  handler: (s) => async (request, reply) => {
    const user = await activeUser(s, callerOf(request).userId);
    const agent = request.headers['user-agent'];
    await disableTotp(s, user, request.body, callerOf(request).sessionId, {
      ip: request.ip,
      userAgent: agent ? agent.slice(0, 512) : null,
    });
    return reply.code(204).send();
  },
});
