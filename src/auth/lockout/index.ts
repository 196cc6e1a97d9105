export {
  type AttemptContext,
  accountLockoutKeys,
  allLockoutKeys,
  checkLockout,
  lockoutKey,
  recordFailure,
  resetLockout,
  userLockoutKey,
  withAttemptSlot,
} from './lockout.ts';
export { requirePassword } from './recheck.ts';
