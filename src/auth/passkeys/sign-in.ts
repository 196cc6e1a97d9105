// Signing in with a passkey: request options for a discoverable credential (no name typed), then the
// assertion checked by @simplewebauthn/server. A verified passkey is possession and user verification
// at once, so it is a full sign-in: no TOTP step, a session like /login's.

import type { AuthenticatorTransportFuture } from '@simplewebauthn/server';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  type PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
} from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import { recordAudit } from '../audit/index.ts';
import { effectiveScopes } from '../identity/index.ts';
import {
  type AttemptContext,
  checkLockout,
  recordFailure,
  resetLockout,
} from '../lockout/index.ts';
import { requireVerifiedEmail } from '../mail-tokens/index.ts';
import type { Uses } from '../services.ts';
import { type ClientInfo, type LoginResult, startSession } from '../sessions/index.ts';
import { badPasskey, CHALLENGE_TTL_MS, saveChallenge, spendChallenge } from './challenges.ts';
import { userHandle } from './registration.ts';
import { requireRelyingParty } from './relying-party.ts';

type SignInUses = Uses<
  'accessTokens' | 'clock' | 'kv' | 'mailer' | 'refreshTokens' | 'secrets' | 'store',
  | 'accessTokenTtlSeconds'
  | 'lockoutBaseSeconds'
  | 'lockoutMaxSeconds'
  | 'lockoutThreshold'
  | 'lockoutWindowSeconds'
  | 'publicUrl'
  | 'refreshTokenTtlSeconds'
  | 'requireVerifiedEmail'
  | 'scopes'
  | 'webauthnRpId'
  | 'webauthnRpName'
>;

export async function signInOptions(
  s: Uses<'clock' | 'secrets' | 'store', 'publicUrl' | 'webauthnRpId' | 'webauthnRpName'>,
  binding: string,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const rp = requireRelyingParty(s.config);
  const options = await generateAuthenticationOptions({
    rpID: rp.id,
    // Empty: the browser offers its discoverable passkeys for this site, and no account is named.
    allowCredentials: [],
    userVerification: 'required',
    timeout: CHALLENGE_TTL_MS,
  });
  await saveChallenge(s, binding, options.challenge, 'login', null);
  return options;
}

// Failures count toward a lockout keyed on the credential (SPEC §10).
const lockoutKeyOf = (credentialId: string): string => `passkey:${credentialId}`;

export async function signInWithPasskey(
  s: SignInUses,
  binding: string | undefined,
  response: AuthenticationResponseJSON,
  client: ClientInfo,
): Promise<LoginResult> {
  const rp = requireRelyingParty(s.config);
  const challenge = await spendChallenge(
    s,
    binding,
    response.response.clientDataJSON,
    'login',
    null,
  );
  const passkey = await s.store.passkeys.findByCredentialId(response.id);
  // One answer for unknown and removed passkeys alike.
  if (!passkey) throw badPasskey('This passkey is not registered here (it may have been removed).');
  const key = lockoutKeyOf(passkey.credentialId);
  const context: AttemptContext = {
    ip: client.ip,
    userAgent: client.userAgent,
    userId: passkey.userId,
  };
  await checkLockout(s, key);
  const user = await s.store.users.findById(passkey.userId);
  if (!user?.isActive) throw badPasskey();
  const fail = async (reason: string): Promise<never> => {
    await recordFailure(s, key, context);
    await recordAudit(s.store, {
      type: 'login.failure',
      actorId: null,
      subjectId: user.id,
      ip: client.ip,
      userAgent: client.userAgent,
      details: { method: 'passkey', passkey_id: passkey.id, reason },
    });
    throw badPasskey();
  };
  // A discoverable credential names its account: it must be the one the passkey was registered to.
  const handle = response.response.userHandle;
  if (handle !== undefined && handle !== isoBase64URL.fromBuffer(userHandle(user))) {
    return fail('user_handle_mismatch');
  }
  let newCounter: number;
  try {
    const verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: {
        id: passkey.credentialId,
        publicKey: isoBase64URL.toBuffer(passkey.publicKey),
        // Zero: the counter is compared below, so that a regression can be told apart and audited.
        counter: 0,
        transports: passkey.transports as AuthenticatorTransportFuture[],
      },
      requireUserVerification: true,
    });
    if (!verified.verified) return fail('signature');
    newCounter = verified.authenticationInfo.newCounter;
  } catch {
    return fail('verification');
  }
  // A counter that does not grow means a second copy of the key exists somewhere (a cloned
  // authenticator): refused, and audited for the owner and the operator. 0 means "no counter".
  if ((newCounter > 0 || passkey.counter > 0) && newCounter <= passkey.counter) {
    await recordAudit(s.store, {
      type: 'passkey.counter_regression',
      actorId: null,
      subjectId: user.id,
      ip: client.ip,
      userAgent: client.userAgent,
      details: { passkey_id: passkey.id, stored: passkey.counter, received: newCounter },
    });
    await recordFailure(s, key, context);
    throw badPasskey(
      'This passkey reported a use count lower than before, a sign it was copied: it was refused.',
    );
  }
  requireVerifiedEmail(s, user);
  const scope = effectiveScopes(user, s.config.scopes).join(' ');
  const result = await startSession(s, user, scope, client, {
    before: async (tx) => {
      // From the counter read above only: of two uses of one signature count, one signs in.
      if (!(await tx.passkeys.recordUse(passkey.id, passkey.counter, newCounter, s.clock()))) {
        throw badPasskey('This passkey was just used: try again.');
      }
    },
    audit: { type: 'passkey.login', details: { method: 'passkey', passkey_id: passkey.id } },
  });
  await resetLockout(s, key);
  return result;
}
