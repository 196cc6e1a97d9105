// Adding a passkey: the creation options for the signed-in user, then the verification of the
// browser's answer by @simplewebauthn/server (attestation "none", user verification required).

import type { AuthenticatorTransportFuture } from '@simplewebauthn/server';
import {
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import { uuidv7 } from '../../crypto/random.ts';
import { AppError, ValidationError } from '../../errors/index.ts';
import { ConflictError, type PasskeyCredential, type User } from '../../store/index.ts';
import { recordAudit } from '../audit/index.ts';
import type { Uses } from '../services.ts';
import { badPasskey, CHALLENGE_TTL_MS, saveChallenge, spendChallenge } from './challenges.ts';
import { requireRelyingParty } from './relying-party.ts';

type RpUses<K extends 'clock' | 'secrets' | 'store'> = Uses<
  K,
  'publicUrl' | 'webauthnRpId' | 'webauthnRpName'
>;

// ES256, EdDSA, RS256: what platform authenticators and security keys make.
export const ALGORITHMS = [-7, -8, -257];
export const MAX_NAME_LENGTH = 64;

/** The WebAuthn user handle of a user: their id's bytes (random, no personal data). */
export function userHandle(user: { id: string }): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(user.id);
}

export async function registrationOptions(
  s: RpUses<'clock' | 'secrets' | 'store'>,
  user: User,
  binding: string,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const rp = requireRelyingParty(s.config);
  const existing = await s.store.passkeys.listByUser(user.id);
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.username,
    userDisplayName: user.username,
    userID: userHandle(user),
    timeout: CHALLENGE_TTL_MS,
    // No attestation: which authenticator it is tells us nothing we act on, and it identifies the device.
    attestationType: 'none',
    // One registration per authenticator per user: the browser skips those it already holds.
    excludeCredentials: existing.map((c) => ({
      id: c.credentialId,
      transports: c.transports as AuthenticatorTransportFuture[],
    })),
    // Discoverable (signs in with no name typed) and verified (PIN or biometric): two factors in one.
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    supportedAlgorithmIDs: ALGORITHMS,
  });
  await saveChallenge(s, binding, options.challenge, 'register', user.id);
  return options;
}

/** What /users/me/passkeys shows of a passkey. */
export interface PasskeyView {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

export function passkeyView(c: PasskeyCredential): PasskeyView {
  return {
    id: c.id,
    name: c.name,
    created_at: new Date(c.createdAt).toISOString(),
    last_used_at: c.lastUsedAt === null ? null : new Date(c.lastUsedAt).toISOString(),
  };
}

/** A name as given (trimmed, one line), or a default from the count of passkeys. */
export function cleanName(name: string | undefined, fallback: string): string {
  const trimmed = (name ?? '').normalize('NFC').trim();
  if (trimmed === '') return fallback;
  // One printable line: a name is shown on pages and written to the audit log.
  if (!/^[^\p{C}]+$/u.test(trimmed) || trimmed.length > MAX_NAME_LENGTH) {
    throw new ValidationError('The name is not acceptable.', [
      { field: 'name', message: `must be printable text of at most ${MAX_NAME_LENGTH} characters` },
    ]);
  }
  return trimmed;
}

export async function finishRegistration(
  s: RpUses<'clock' | 'secrets' | 'store'>,
  user: User,
  binding: string | undefined,
  input: { response: RegistrationResponseJSON; name?: string | undefined },
): Promise<PasskeyView> {
  const rp = requireRelyingParty(s.config);
  const count = await s.store.passkeys.countByUser(user.id);
  const name = cleanName(input.name, `Passkey ${count + 1}`);
  const challenge = await spendChallenge(
    s,
    binding,
    input.response.response.clientDataJSON,
    'register',
    user.id,
  );
  let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verified = await verifyRegistrationResponse({
      response: input.response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserPresence: true,
      requireUserVerification: true,
      supportedAlgorithmIDs: ALGORITHMS,
    });
  } catch (cause) {
    throw Object.assign(badPasskey(), { cause });
  }
  if (!verified.verified) throw badPasskey();
  const { credential, credentialDeviceType, credentialBackedUp } = verified.registrationInfo;
  const gone = badPasskey('The account is disabled or gone.');
  const exists = new AppError('passkey_exists', 'This passkey is registered already.');
  if (await s.store.passkeys.findByCredentialId(credential.id)) throw exists;
  const now = s.clock();
  const passkey: Omit<PasskeyCredential, 'lastUsedAt'> = {
    id: uuidv7(now),
    userId: user.id,
    credentialId: credential.id,
    publicKey: isoBase64URL.fromBuffer(credential.publicKey),
    counter: credential.counter,
    transports: credential.transports ?? [],
    deviceType: credentialDeviceType,
    backedUp: credentialBackedUp,
    name,
    createdAt: now,
  };
  try {
    await s.store.transaction(async (tx) => {
      // The account may have been disabled or deleted while the browser asked the authenticator.
      const current = await tx.users.findById(user.id);
      if (!current?.isActive) throw gone;
      await tx.passkeys.insert(passkey);
      await recordAudit(tx, {
        type: 'passkey.add',
        actorId: user.id,
        subjectId: user.id,
        at: now,
        details: { passkey_id: passkey.id, name, device_type: credentialDeviceType },
      });
    });
  } catch (error) {
    // Two registrations of one authenticator at once: the unique credential id lets one in.
    if (error instanceof ConflictError) throw exists;
    throw error;
  }
  return passkeyView({ ...passkey, lastUsedAt: null });
}
