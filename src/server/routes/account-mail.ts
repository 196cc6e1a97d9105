// The mailed flows: password reset and email verification.
// HTTP only: parse, call the rules, shape the answer.
import { activeUser } from '../../auth/accounts/index.ts';
import { parseEmail } from '../../auth/identity/index.ts';
import {
  requestPasswordReset,
  requestVerification,
  resetPassword as resetWithToken,
  verifyEmail,
} from '../../auth/mail-tokens/index.ts';
import { ValidationError } from '../../errors/index.ts';
import { callerOf } from '../authenticate.ts';
import { route } from '../route.ts';
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

export const forgotPassword = route<{ Body: { email: string } }>({
  schema: {
    tags,
    summary: 'Mail a password-reset link (202 whether or not the account exists)',
    body: object(['email'], { email: str(1024) }),
    response: { ...accepted, ...errorResponses([400, 422]) },
  },
  handler: (s) => async (request, reply) => {
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
});

export const resetPassword = route<{ Body: { token: string; new_password: string } }>({
  schema: {
    tags,
    summary: 'Set a new password with a reset token; ends every session',
    body: object(['token', 'new_password'], { token: str(512), new_password: str(4096) }),
    response: { ...noContent, ...errorResponses([400, 422]) },
  },
  handler: (s) => async (request, reply) => {
    await resetWithToken(s, request.body.token, request.body.new_password);
    return reply.code(204).send();
  },
});

export const requestVerificationMail = route({
  schema: {
    tags,
    summary: 'Mail a link that verifies the email address',
    security: [{ oauth2: [] }],
    response: { ...accepted, ...errorResponses([401, 409, 429]) },
  },
  handler: (s) => async (request, reply) => {
    const user = await activeUser(s, callerOf(request).userId);
    await requestVerification(s, user);
    return reply.code(202).send({ detail: 'A verification link has been sent to your address.' });
  },
});

export const verify = route<{ Body: { token: string } }>({
  schema: {
    tags,
    summary: 'Verify the email address with the mailed token',
    body: object(['token'], { token: str(512) }),
    response: { ...noContent, ...errorResponses([400, 422]) },
  },
  handler: (s) => async (request, reply) => {
    await verifyEmail(s, request.body.token);
    return reply.code(204).send();
  },
});
