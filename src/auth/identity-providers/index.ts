export { completeProviderSignIn } from './callback.ts';
export {
  beginSignIn,
  FLOW_TTL_MS,
  FlowError,
  type FlowFailure,
  finishSignIn,
  localPath,
  type PendingSignIn,
} from './flow.ts';
export { type LinkedIdentity, listIdentities, unlinkIdentity } from './identities.ts';
export type { Profile } from './profile.ts';
export {
  createIdentityProviders,
  type IdentityProviders,
  type ProviderLog,
  ProviderUnavailable,
  type ProviderView,
} from './registry.ts';
export { type ProviderOutcome, providerSignIn, type Refusal } from './sign-in.ts';
