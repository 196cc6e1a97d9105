// The software authenticator of test/support/webauthn.ts checked against @simplewebauthn/server
// itself, with no Portcullis in between: when the HTTP suites fail, the server is at fault, not it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type WebAuthnCredential,
} from '@simplewebauthn/server';
import { FLAG, SoftAuthenticator, strangerKey } from '../support/webauthn.ts';

const ORIGIN = 'http://localhost:8000';
const RP_ID = 'localhost';

async function registered(): Promise<{ auth: SoftAuthenticator; credential: WebAuthnCredential }> {
  const auth = new SoftAuthenticator(ORIGIN, RP_ID);
  const options = await generateRegistrationOptions({
    rpName: 'Test',
    rpID: RP_ID,
    userName: 'alice',
    userID: new TextEncoder().encode('user-1'),
    attestationType: 'none',
  });
  const result = await verifyRegistrationResponse({
    // biome-ignore lint/suspicious/noExplicitAny: the JSON shape is what the library reads.
    response: auth.register(options) as any,
    expectedChallenge: options.challenge,
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    requireUserVerification: true,
  });
  assert.equal(result.verified, true);
  assert.ok(result.registrationInfo);
  assert.equal(result.registrationInfo.credential.id, auth.id);
  assert.equal(result.registrationInfo.fmt, 'none');
  return { auth, credential: result.registrationInfo.credential };
}

async function assertion(
  auth: SoftAuthenticator,
  credential: WebAuthnCredential,
  tamper: Parameters<SoftAuthenticator['login']>[1] = {},
) {
  const options = await generateAuthenticationOptions({
    rpID: RP_ID,
    userVerification: 'required',
  });
  return verifyAuthenticationResponse({
    // biome-ignore lint/suspicious/noExplicitAny: the JSON shape is what the library reads.
    response: auth.login(options, tamper) as any,
    expectedChallenge: options.challenge,
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    credential,
    requireUserVerification: true,
  });
}

/** Refused: the library throws, or answers verified: false (a bad signature). */
async function assertRefused(result: Promise<{ verified: boolean }>, name: string): Promise<void> {
  let verified: boolean;
  try {
    verified = (await result).verified;
  } catch {
    return;
  }
  assert.equal(verified, false, name);
}

describe('the software authenticator, against @simplewebauthn/server directly', () => {
  it('registers (attestation none) and signs in, the counter growing', async () => {
    const { auth, credential } = await registered();
    const first = await assertion(auth, credential);
    assert.equal(first.verified, true);
    assert.equal(first.authenticationInfo.newCounter, 1);
    assert.equal(first.authenticationInfo.userVerified, true);
    const second = await assertion(auth, { ...credential, counter: 1 });
    assert.equal(second.authenticationInfo.newCounter, 2);
  });

  it('is refused by the library for each tampering the HTTP suites use', async () => {
    const { auth, credential } = await registered();
    const refusals: Array<[string, Parameters<SoftAuthenticator['login']>[1]]> = [
      ['wrong origin', { origin: 'https://evil.example' }],
      ['wrong RP id hash', { rpId: 'evil.example' }],
      ['no user verification', { flags: FLAG.UP }],
      ['another key', { signWith: strangerKey() }],
      ['a registration type', { type: 'webauthn.create' }],
      ['another challenge', { challenge: 'bm90LXRoZS1jaGFsbGVuZ2U' }],
    ];
    for (const [name, tamper] of refusals) {
      await assertRefused(assertion(auth, credential, tamper), name);
    }
    await assert.rejects(
      assertion(auth, { ...credential, counter: 10 }, { counter: 3 }),
      /counter/i,
      'counter going backwards',
    );
  });

  it('a registration without user verification is refused by the library', async () => {
    const auth = new SoftAuthenticator(ORIGIN, RP_ID);
    const options = await generateRegistrationOptions({
      rpName: 'Test',
      rpID: RP_ID,
      userName: 'bob',
    });
    await assert.rejects(
      verifyRegistrationResponse({
        // biome-ignore lint/suspicious/noExplicitAny: the JSON shape is what the library reads.
        response: auth.register(options, { flags: FLAG.UP | FLAG.AT }) as any,
        expectedChallenge: options.challenge,
        expectedOrigin: ORIGIN,
        expectedRPID: RP_ID,
        requireUserVerification: true,
      }),
      /verif/i,
    );
  });
});
