export {
  completeSecondFactor,
  loginWithSecondFactor,
  MFA_OTP_GRANT,
  passwordLogin,
} from './sign-in.ts';
