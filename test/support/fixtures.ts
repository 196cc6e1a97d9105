// Shared set-up for the HTTP suites.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { register } from '../../src/auth/accounts/index.ts';
import { type Client, login, newIdentity, type TokenPair } from './http.ts';
import type { TestServer } from './server.ts';

export interface Account {
  id: string;
  username: string;
  email: string;
  password: string;
  tokens: TokenPair;
}

/** A superuser made the way an operator makes one (the same rule the CLI calls), then logged in. */
export async function superuser(server: TestServer, api: Client): Promise<Account> {
  const who = newIdentity('admin');
  const user = await register(server.app.services, { ...who, isSuperuser: true });
  return { ...who, id: user.id, tokens: await login(api, who.username, who.password) };
}

export function claimsOf(token: string): Record<string, unknown> {
  return decodeJwt(token) as Record<string, unknown>;
}

export function headerOf(token: string): Record<string, unknown> {
  return decodeProtectedHeader(token) as Record<string, unknown>;
}

export function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
