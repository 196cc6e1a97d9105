export {
  type AdminPatch,
  adminUpdate,
  changePassword,
  deleteAccount,
  deleteUser,
  enforcePasswordPolicy,
  register,
  setPassword,
  updateProfile,
} from './accounts.ts';
export { activeUser, listUsers, type User, userVisibleTo } from './current-user.ts';
export { type ImportRecord, importUsers } from './import.ts';
export { passwordAdvice } from './password-check.ts';
