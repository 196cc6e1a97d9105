export { type AppAccess, listApps, revokeApp } from './apps.ts';
export {
  answerConsent,
  type BrowserSignIn,
  browserSignIn,
  type Decision,
  decide,
  errorLocation,
} from './authorize.ts';
export { authenticateClient, type PresentedCredentials, type TokenClient } from './client-auth.ts';
export {
  afterLogout,
  checkLogoutRequest,
  endSessionOf,
  type LogoutRequest,
} from './end-session.ts';
export {
  clientCredentials,
  exchangeCode,
  mustBeRegistered,
  type OAuthTokens,
  readPublicExchange,
  refreshGrant,
} from './grants.ts';
export {
  type AuthorizationRequest,
  type Checked,
  checkAuthorizationRequest,
  requestFields,
  type UntrustedRequest,
} from './request.ts';
export { userInfo } from './userinfo.ts';
