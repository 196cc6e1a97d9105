// The one sign-in flow: the password step, then the second factor when the account has one (a code
// sent with the password, or else 400 mfa_required with an mfa_token for the OAuth grant
// urn:portcullis:grant-type:mfa-otp), then the verified-address rule, then the session.
import { AppError, isAppError } from '../../errors/index.ts';
import { effectiveScopes, grantScope, parseScope } from '../identity/index.ts';
import { requireVerifiedEmail } from '../mail-tokens/index.ts';
import {
  type AttemptContext,
  badMfaToken,
  findChallenge,
  hasSecondFactor,
  requireSecondFactor,
  verifySecondFactor,
} from '../second-factor/index.ts';
import type { Uses } from '../services.ts';
import { type ClientInfo, type LoginResult, startSession } from '../sessions/index.ts';
import { authenticate } from './password.ts';

export const MFA_OTP_GRANT = 'urn:portcullis:grant-type:mfa-otp';

function attempt(client: ClientInfo): AttemptContext {
  return { ip: client.ip, userAgent: client.userAgent };
}

/** Exchanges an mfa_token and a code for a session. Every misuse is 400 invalid_grant. */
export async function completeSecondFactor(
  s: Uses<
    'accessTokens' | 'clock' | 'kv' | 'mailer' | 'refreshTokens' | 'secrets' | 'store',
    | 'accessTokenTtlSeconds'
    | 'lockoutBaseSeconds'
    | 'lockoutMaxSeconds'
    | 'lockoutQueueSeconds'
    | 'lockoutThreshold'
    | 'lockoutWindowSeconds'
    | 'publicUrl'
    | 'refreshTokenTtlSeconds'
    | 'requireVerifiedEmail'
    | 'scopes'
  >,
  input: { mfaToken: string; otp: string },
  client: ClientInfo,
): Promise<LoginResult> {
  const challenge = await findChallenge(s, input.mfaToken);
  const user = await s.store.users.findById(challenge.userId);
  // A password change, reset, deactivation or lost right since the password step voids the token.
  if (!user?.isActive || user.securityVersion !== challenge.securityVersion) throw badMfaToken();
  try {
    await verifySecondFactor(s, user, input.otp, attempt(client));
  } catch (error) {
    // A lockout (429) or an outage passes through; only a wrong code is the grant's failure.
    if (!isAppError(error, 'invalid_otp')) throw error;
    // Each wrong code uses up one of the token's tries; at the limit the password step starts over.
    await s.store.mfaChallenges.recordFailure(challenge.hash);
    throw new AppError('invalid_grant', error.message);
  }
  // The conditional update makes the token single use even for two requests at the same moment.
  if (!(await s.store.mfaChallenges.consume(challenge.hash, s.clock()))) throw badMfaToken();
  requireVerifiedEmail(s, user);
  // The rights may have shrunk during the five minutes: grant only what the user still holds.
  const scope = grantScope(parseScope(challenge.scope), effectiveScopes(user, s.config.scopes));
  return startSession(s, user, scope, { ...client, clientId: challenge.clientId });
}

/** What a sign-in reads: the password step, the second factor, the mail of the address rule. */
type SignInUses = Uses<
  'accessTokens' | 'clock' | 'hasher' | 'kv' | 'mailer' | 'refreshTokens' | 'secrets' | 'store',
  | 'accessTokenTtlSeconds'
  | 'lockoutBaseSeconds'
  | 'lockoutMaxSeconds'
  | 'lockoutQueueSeconds'
  | 'lockoutThreshold'
  | 'lockoutWindowSeconds'
  | 'passwordMaxLength'
  | 'publicUrl'
  | 'refreshTokenTtlSeconds'
  | 'requireVerifiedEmail'
  | 'scopes'
>;

/**
 * A sign-in with the password and, for forms that ask for it at once (the cookie /login), the code.
 * Without `otp` an account with 2FA gets 400 mfa_required and an mfa_token; an unverified address
 * with REQUIRE_VERIFIED_EMAIL gets 400 email_not_verified.
 */
export async function loginWithSecondFactor(
  s: SignInUses,
  input: {
    username: string;
    password: string;
    scope?: string | undefined;
    otp?: string | undefined;
  },
  client: ClientInfo,
): Promise<LoginResult> {
  const user = await authenticate(s, input.username, input.password, client);
  const scope = grantScope(parseScope(input.scope), effectiveScopes(user, s.config.scopes));
  if (input.otp === undefined || input.otp === '' || !(await hasSecondFactor(s, user.id))) {
    await requireSecondFactor(s, user, scope, client);
  } else {
    await verifySecondFactor(s, user, input.otp, attempt(client));
  }
  requireVerifiedEmail(s, user);
  return startSession(s, user, scope, client);
}

/** The OAuth password grant: the same sign-in, with no code (2FA answers mfa_required). */
export function passwordLogin(
  s: SignInUses,
  input: { username: string; password: string; scope?: string | undefined },
  client: ClientInfo,
): Promise<LoginResult> {
  return loginWithSecondFactor(s, { ...input, otp: undefined }, client);
}
