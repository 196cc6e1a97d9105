export {
  requestVerification,
  requireVerifiedEmail,
  sendVerificationLater,
  verifyEmail,
} from './email-verification.ts';
export { requestPasswordReset, resetPassword } from './password-reset.ts';
