// What each scope lets an app do, in plain words: the browser's copy of the texts of the consent
// page (src/server/oauth-pages.ts describeScopes; test/web/oauth-pages.test.ts keeps them equal).

const TEXT = {
  openid: 'Sign you in with your Portcullis account',
  profile: 'See your username',
  email: 'See your email address and whether it is verified',
  offline_access: 'Stay signed in: keep access to your account while you are not using the app',
  read: 'Read your data',
  write: 'Change your data',
  admin: 'Full administrative access: manage every user, app and setting of Portcullis',
};

/** [{scope, text}] for a space-delimited scope string or a list, each scope once. */
export function describeScopes(scopes) {
  const list = typeof scopes === 'string' ? scopes.split(' ') : scopes;
  return [...new Set(list)]
    .filter((scope) => scope !== '')
    .map((scope) => ({
      scope,
      text: Object.hasOwn(TEXT, scope)
        ? TEXT[scope]
        : `Use the “${scope}” permission of your account`,
    }));
}
