export { passwordLogin } from './password.ts';
export { completeSecondFactor, loginWithSecondFactor, MFA_OTP_GRANT } from './second-step.ts';
