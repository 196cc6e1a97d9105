export { isBrowserBinding, newBrowserBinding } from './challenges.ts';
export { listPasskeys, passkeyCounts, removePasskey, renamePasskey } from './manage.ts';
export {
  finishRegistration,
  MAX_NAME_LENGTH,
  type PasskeyView,
  registrationOptions,
} from './registration.ts';
export { relyingParty, relyingPartyWarning, requireRelyingParty } from './relying-party.ts';
export { signInOptions, signInWithPasskey } from './sign-in.ts';
