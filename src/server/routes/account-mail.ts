// Routes of the mailed flows: password reset (SPEC §4) and email verification.
// HTTP only: parse, call the rules, shape the answer.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseEmail } from '../../auth/identity/index.ts';
import {
  requestPasswordReset,
  requestVerification,
  resetPassword,
  verifyEmail,
} from '../../auth/mail-tokens/index.ts';
import type { Services } from '../../auth/services.ts';
import { AuthenticationError, ValidationError } from '../../errors/index.ts';
import type { User } from '../../store/index.ts';
import { callerOf, type Guards } from '../authenticate.ts';
import { errorResponses, object, str } from '../schemas.ts';

const accepted = {
  202: object(['detail'], { detail: { type: 'string' } }),
};
const noContent = { 204: { type: 'null', description: 'Done.' } };
const tags = ['account'];

// The same words whether or not an account uses the address: the answer must not tell.
export const FORGOT_ANSWER = {
  detail: 'If an account uses this address, a link to reset its password has been sent to it.',
} as const;

export async function loadActiveUser(s: Services, request: FastifyRequest): Promise<User> {
  const user = await s.store.users.findById(callerOf(request).userId);
  // The token may be valid while the account is gone or disabled since: it no longer authenticates.
  if (!user?.isActive) throw new AuthenticationError('The account is disabled or gone.', true);
  return user;
}

export async function accountMailRoutes(
  app: FastifyInstance,
  opts: { services: Services; guards: Guards },
): Promise<void> {
  const s = opts.services;

  app.post(
    '/password/forgot',
    {
      config: { rateLimit: 'password' },
      schema: {
        tags,
        summary: 'Mail a password-reset link (202 whether or not the account exists)',
        body: object(['email'], { email: str(1024) }),
        response: { ...accepted, ...errorResponses([400, 422]) },
      },
    },
    async (request: FastifyRequest<{ Body: { email: string } }>, reply: FastifyReply) => {
      const { email } = request.body;
      // Only the form of the address is judged here; whether it is known is never looked up before
      // answering, so every well-formed address gets the same answer in the same time.
      if (!parseEmail(email).ok) {
        throw new ValidationError('The email address is not valid.', [
          { field: 'email', message: 'is not a valid email address' },
        ]);
      }
      requestPasswordReset(s, email);
      return reply.code(202).send(FORGOT_ANSWER);
    },
  );

  app.post(
    '/password/reset',
    {
      config: { rateLimit: 'password' },
      schema: {
        tags,
        summary: 'Set a new password with a reset token; ends every session',
        body: object(['token', 'new_password'], { token: str(512), new_password: str(4096) }),
        response: { ...noContent, ...errorResponses([400, 422]) },
      },
    },
    async (
      request: FastifyRequest<{ Body: { token: string; new_password: string } }>,
      reply: FastifyReply,
    ) => {
      await resetPassword(s, request.body.token, request.body.new_password);
      return reply.code(204).send();
    },
  );

  app.post(
    '/verify/request',
    {
      config: { rateLimit: 'password' },
      preHandler: opts.guards.user,
      schema: {
        tags,
        summary: 'Mail a link that verifies the email address',
        security: [{ oauth2: [] }],
        response: { ...accepted, ...errorResponses([401, 409, 429]) },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const user = await loadActiveUser(s, request);
      await requestVerification(s, user);
      return reply.code(202).send({ detail: 'A verification link has been sent to your address.' });
    },
  );

  app.post(
    '/verify',
    {
      config: { rateLimit: 'password' },
      schema: {
        tags,
        summary: 'Verify the email address with the mailed token',
        body: object(['token'], { token: str(512) }),
        response: { ...noContent, ...errorResponses([400, 422]) },
      },
    },
    async (request: FastifyRequest<{ Body: { token: string } }>, reply: FastifyReply) => {
      await verifyEmail(s, request.body.token);
      return reply.code(204).send();
    },
  );
}
