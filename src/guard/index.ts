// The guard: verify Portcullis access tokens in other services. See README "Protecting other services".
export {
  authenticate,
  challenge,
  expressGuard,
  fastifyGuard,
  type GuardedRequest,
  type GuardOptions,
  isPublic,
  scopeGuard,
} from './middleware.ts';
export {
  createVerifier,
  type GuardClaims,
  GuardError,
  requireScopes,
  requireSuperuser,
  type Verifier,
  type VerifierOptions,
} from './verifier.ts';
