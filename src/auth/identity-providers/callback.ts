// The callback as one rule: the flow's checks and the code exchange, then the sign-in, link or new
// account; answers that failed validation are audited (they may be an attack on the flow).
import type { IdentityProviderSettings } from '../../config/index.ts';
import { recordAudit } from '../audit/index.ts';
import type { Uses } from '../services.ts';
import type { ClientInfo } from '../sessions/index.ts';
import { FlowError, finishSignIn } from './flow.ts';
import { type ProviderOutcome, providerSignIn } from './sign-in.ts';

const AUDITED = new Set(['state_mismatch', 'invalid_response']);

export async function completeProviderSignIn(
  s: Uses<
    | 'accessTokens'
    | 'clock'
    | 'identityProviders'
    | 'kv'
    | 'mailer'
    | 'refreshTokens'
    | 'secrets'
    | 'store',
    | 'accessTokenTtlSeconds'
    | 'allowSignup'
    | 'defaultScopes'
    | 'publicUrl'
    | 'refreshTokenTtlSeconds'
    | 'requireVerifiedEmail'
    | 'scopes'
  >,
  p: IdentityProviderSettings,
  input: { binding: string | undefined; query: string },
  client: ClientInfo,
): Promise<ProviderOutcome> {
  let finished: Awaited<ReturnType<typeof finishSignIn>>;
  try {
    finished = await finishSignIn(s, p, input);
  } catch (error) {
    if (error instanceof FlowError && AUDITED.has(error.reason)) {
      await recordAudit(s.store, {
        type: 'login.failure',
        actorId: null,
        at: s.clock(),
        details: { provider: p.name, reason: error.reason, cause: String(error.cause ?? '') },
      });
    }
    throw error;
  }
  return providerSignIn(s, finished.pending, finished.profile, p.displayName, client);
}
