export { badMfaToken, findChallenge, hasSecondFactor, requireSecondFactor } from './challenges.ts';
export {
  confirmTotp,
  disableTotp,
  resetSecondFactor,
  startTotpEnrolment,
  totpStatus,
} from './enrolment.ts';
export { matchTotp, timeStep, totpCode } from './totp.ts';
export { resealAllTotpSecrets } from './totp-secrets.ts';
export { type AttemptContext, verifySecondFactor } from './verify.ts';
