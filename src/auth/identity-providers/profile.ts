// What a provider says about the user after the code exchange: from the ID token (checked by
// openid-client: signature from the provider's JWKS, iss, aud, exp, nonce) and, when it lacks the
// address, the userinfo endpoint; for GitHub from its REST API (/user and /user/emails).
import * as oidc from 'openid-client';
import type { IdentityProviderSettings } from '../../config/index.ts';

export interface Profile {
  /** The provider's stable id for the user (`sub`; GitHub: the numeric user id). */
  subject: string;
  email: string | undefined;
  /** True only when the provider vouches for the address. */
  emailVerified: boolean;
  preferredUsername: string | undefined;
}

export class ProfileError extends Error {
  override name = 'ProfileError';
}

const text = (value: unknown, max: number): string | undefined =>
  typeof value === 'string' && value !== '' && value.length <= max ? value : undefined;

type Tokens = Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;

export async function oidcProfile(config: oidc.Configuration, tokens: Tokens): Promise<Profile> {
  const claims = tokens.claims();
  const subject = text(claims?.sub, 255);
  if (!claims || subject === undefined) throw new ProfileError('the ID token names no subject');
  let source: Record<string, unknown> = claims;
  // Some providers (Microsoft Entra, GitLab with few scopes) keep the address out of the ID token.
  if (text(claims.email, 320) === undefined && config.serverMetadata().userinfo_endpoint) {
    // fetchUserInfo refuses an answer about another subject than the ID token's.
    source = { ...(await oidc.fetchUserInfo(config, tokens.access_token, subject)), ...claims };
  }
  return {
    subject,
    email: text(source.email, 320),
    // Only the boolean true: an absent claim, false or a string are not the provider vouching.
    emailVerified: source.email_verified === true,
    preferredUsername: text(source.preferred_username, 255) ?? text(source.nickname, 255),
  };
}

// GitHub REST API answers (https://docs.github.com/en/rest/users): only the fields read here.
interface GithubUser {
  id?: unknown;
  login?: unknown;
  email?: unknown;
}
interface GithubEmail {
  email?: unknown;
  primary?: unknown;
  verified?: unknown;
}

async function githubGet(
  config: oidc.Configuration,
  p: IdentityProviderSettings,
  token: string,
  path: string,
): Promise<unknown> {
  const url = new URL(`${p.apiUrl.replace(/\/+$/, '')}${path}`);
  const headers = new Headers({
    accept: 'application/vnd.github+json',
    'x-github-api-version': '2022-11-28',
  });
  const response = await oidc.fetchProtectedResource(config, token, url, 'GET', null, headers);
  if (!response.ok) throw new ProfileError(`GitHub answered ${response.status} for ${path}`);
  return response.json();
}

export async function githubProfile(
  config: oidc.Configuration,
  p: IdentityProviderSettings,
  tokens: Tokens,
): Promise<Profile> {
  const user = (await githubGet(config, p, tokens.access_token, '/user')) as GithubUser;
  const emails = await githubGet(config, p, tokens.access_token, '/user/emails');
  if (
    user === null ||
    typeof user !== 'object' ||
    !(typeof user.id === 'number' || typeof user.id === 'string')
  )
    throw new ProfileError('GitHub /user names no id');
  const list = Array.isArray(emails) ? (emails as GithubEmail[]) : [];
  const primary = list.find((e) => e !== null && typeof e === 'object' && e.primary === true);
  // Only the primary address, and verified only when GitHub says so: any other address on the
  // account may be one its owner never proved (an attacker could add the victim's).
  const email = text(primary?.email, 320);
  return {
    subject: String(user.id),
    email,
    emailVerified: email !== undefined && primary?.verified === true,
    preferredUsername: text(user.login, 255),
  };
}
